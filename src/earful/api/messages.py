"""Messages over the API: the same list and search as the inbox page."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from earful.api.pagination import BoundedLimitOffset
from earful.conversations.models import Message
from earful.conversations.queries import list_messages
from earful.org.access import access_organization

router = Router(tags=["messages"])


class MessageOut(Schema):
    code: str
    channel: str
    direction: str
    kind: str
    author_handle: str
    text: str
    created_at: datetime
    url: str
    conversation: int | None
    join_rule: str
    join_confidence: float
    sentiment: str
    intent: str

    @staticmethod
    def resolve_code(obj: Message) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_channel(obj: Message) -> str:
        return obj.channel.name

    @staticmethod
    def resolve_conversation(obj: Message) -> int | None:
        return obj.conversation.number if obj.conversation else None


@router.get("/orgs/{org}/messages", response=list[MessageOut])
@paginate(BoundedLimitOffset)
def messages(request: HttpRequest, org: str, q: str = "") -> list[Message]:
    """The organization's messages, newest first; `q` is a full-text query."""
    membership = access_organization(request.user, org)
    return list_messages(membership.organization, text=q[:200])  # type: ignore[return-value]
