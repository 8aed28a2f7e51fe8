"""The REST API (OpenAPI at /api/v1/docs): thin routes over the same queries the pages use."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import NinjaAPI, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import django_auth

from earful.conversations.models import Message
from earful.conversations.queries import list_messages
from earful.org.access import access_organization

api = NinjaAPI(title="earful API", version="1", auth=django_auth, urls_namespace="api")


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


@api.get("/orgs/{org}/messages", response=list[MessageOut], tags=["messages"])
@paginate(LimitOffsetPagination)
def messages(request: HttpRequest, org: str, q: str = "") -> list[Message]:
    """The organization's messages, newest first; `q` is a full-text query."""
    membership = access_organization(request.user, org)
    return list_messages(membership.organization, text=q[:200])  # type: ignore[return-value]
