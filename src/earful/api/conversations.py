"""Conversations over the API: read one; move, split, merge or undo (the services the UI uses)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from earful.api.messages import MessageOut
from earful.conversations import actions
from earful.conversations.access import access_conversation, access_event, access_message
from earful.conversations.models import Conversation, Message
from earful.org.access import access_organization
from earful.org.models import Event

router = Router(tags=["conversations"])


class ConversationOut(Schema):
    number: int
    subject: str
    status: str
    customer: str | None
    started_at: datetime
    last_message_at: datetime
    waiting_since: datetime | None
    first_response_at: datetime | None
    merged_into: int | None
    follows: int | None
    channels: list[str]
    messages: list[MessageOut]

    @staticmethod
    def resolve_customer(obj: Conversation) -> str | None:
        return str(obj.customer.code) if obj.customer else None

    @staticmethod
    def resolve_merged_into(obj: Conversation) -> int | None:
        return obj.merged_into.number if obj.merged_into else None

    @staticmethod
    def resolve_follows(obj: Conversation) -> int | None:
        return obj.follows.number if obj.follows else None

    @staticmethod
    def resolve_channels(obj: Conversation) -> list[str]:
        return sorted(channel.name for channel in obj.channels.all())

    @staticmethod
    def resolve_messages(obj: Conversation) -> list[Message]:
        return list(obj.messages.select_related("channel").order_by("created_at", "id"))


class EventOut(Schema):
    code: str
    verb: str
    at: datetime

    @staticmethod
    def resolve_code(obj: Event) -> str:
        return str(obj.code)


@router.get("/orgs/{org}/conversations/{number}", response=ConversationOut)
def conversation(request: HttpRequest, org: str, number: int) -> Conversation:
    """One conversation with its cross-channel timeline and why each message is in it."""
    membership = access_organization(request.user, org)
    return access_conversation(membership.organization, number)


@router.post("/orgs/{org}/conversations/{number}/merge-into/{into}", response=EventOut)
def merge(request: HttpRequest, org: str, number: int, into: int) -> Event:
    """Merge this conversation into another; undo with the returned event."""
    organization = access_organization(request.user, org).organization
    return actions.merge_conversations(
        access_conversation(organization, number),
        access_conversation(organization, into),
        by=request.user,
    )


@router.post("/orgs/{org}/conversations/{number}/split-at/{message}", response=EventOut)
def split(request: HttpRequest, org: str, number: int, message: str) -> Event:
    """Move this message and every later one into a new conversation."""
    organization = access_organization(request.user, org).organization
    return actions.split_conversation(
        access_conversation(organization, number),
        access_message(organization, message),
        by=request.user,
    )


@router.post("/orgs/{org}/messages/{message}/move-to/{number}", response=EventOut)
def move(request: HttpRequest, org: str, message: str, number: int) -> Event:
    """Move one message into another conversation."""
    organization = access_organization(request.user, org).organization
    return actions.move_message(
        access_message(organization, message),
        access_conversation(organization, number),
        by=request.user,
    )


@router.post("/orgs/{org}/events/{event}/undo", response=EventOut)
def undo(request: HttpRequest, org: str, event: str) -> Event:
    """Undo a move, split or merge."""
    organization = access_organization(request.user, org).organization
    return actions.undo(access_event(organization, event), by=request.user)
