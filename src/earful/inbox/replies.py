"""Replying to a customer: the composer's rules (channel, length, visibility) and the send."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from earful.channels.connector import ConnectorError
from earful.channels.models import Channel, ChannelKind, ChannelMode
from earful.channels.outgoing import channel_for_reply
from earful.conversations.models import (
    Conversation,
    Direction,
    Message,
    MessageKind,
    Status,
    Visibility,
)
from earful.conversations.stitching import case_reference
from earful.conversations.threading import refresh_conversations
from earful.errors import DomainError
from earful.inbox.outbox import enqueue
from earful.inbox.sla import sync_clocks
from earful.org.events import record_event

Actor = User | AnonymousUser | None

# What each platform accepts in one post; None where there is no practical limit.
LENGTH_LIMITS: dict[str, int | None] = {
    ChannelKind.X: 280,
    ChannelKind.BLUESKY: 300,
    ChannelKind.MASTODON: 500,
    ChannelKind.REDDIT: 10000,
    ChannelKind.REVIEWS: 5000,
}
PRIVATE_KINDS = frozenset({MessageKind.DIRECT, MessageKind.EMAIL})


class ReplyError(DomainError):
    """A reply that cannot be sent as written, with the reason."""


def with_reference(conversation: Conversation, text: str) -> str:
    """The text with the case reference customers can quote, added once."""
    reference = case_reference(conversation.organization, conversation.number)
    text = text.strip()
    return text if reference in text else f"{text}\n\nRef: {reference}"


def answerable(conversation: Conversation) -> list[Message]:
    """The customer's messages a reply can answer, newest first (each picks a channel)."""
    return list(
        conversation.messages.filter(direction=Direction.IN)
        .select_related("channel")
        .order_by("-created_at", "-id")
    )


def email_addresses(conversation: Conversation) -> list[str]:
    """Addresses the customer is known by: a reply can move there from a public channel."""
    if conversation.customer is None:
        return []
    found = set()
    for verified, platform, external_id in conversation.customer.identities.values_list(
        "verified_email", "platform", "external_id"
    ):
        if verified:
            found.add(verified.lower())
        elif platform == ChannelKind.EMAIL and "@" in external_id:
            found.add(external_id.lower())
    return sorted(found)


def email_channel(conversation: Conversation) -> Channel | None:
    """The organization's first enabled email channel that may send."""
    return (
        Channel.objects.filter(
            organization_id=conversation.organization_id,
            kind=ChannelKind.EMAIL,
            mode=ChannelMode.ENGAGE,
            enabled=True,
        )
        .order_by("pk")
        .first()
    )


def is_private(parent: Message, channel: Channel) -> bool:
    """Whether a reply to this message is seen only by the customer."""
    return parent.kind in PRIVATE_KINDS or channel.kind == ChannelKind.EMAIL


def length_limit(channel: Channel) -> int | None:
    """The most characters one reply on this channel may have."""
    return LENGTH_LIMITS.get(channel.kind)


@transaction.atomic
def send_reply_to_customer(
    conversation: Conversation,
    text: str,
    *,
    by: Actor,
    now: datetime,
    parent: Message | None = None,
    email_to: str = "",
) -> Message:
    """Store our reply, clear the customer's wait, and put it in the outbox.

    With `email_to` (one of the customer's known addresses) the answer moves from the
    channel they wrote on to a private email.
    """
    if not text.strip():
        raise ReplyError("the reply is empty")
    if conversation.status == Status.MERGED:
        raise ReplyError("this conversation was merged; reply in the one it went into")
    candidates = answerable(conversation)
    if parent is None:
        if not candidates:
            raise ReplyError("there is no customer message to answer")
        parent = candidates[0]
    elif parent.conversation_id != conversation.pk or parent.direction != Direction.IN:
        raise ReplyError("that message is not a customer's message in this conversation")
    if email_to:
        if email_to.lower() not in email_addresses(conversation):
            raise ReplyError("that is not an address this customer is known by")
        found = email_channel(conversation)
        if found is None:
            raise ReplyError("no email channel is set up to answer privately")
        channel = found
    else:
        try:
            channel = channel_for_reply(parent)
        except ConnectorError as exc:
            raise ReplyError(str(exc)) from None
    body = with_reference(conversation, text)
    limit = length_limit(channel)
    if limit is not None and len(body) > limit:
        kind = channel.get_kind_display()
        raise ReplyError(f"{kind} allows {limit} characters; this has {len(body)}")
    private = bool(email_to) or is_private(parent, channel)
    message = Message(
        organization_id=conversation.organization_id,
        channel=channel,
        conversation=conversation,
        sent_by=by if isinstance(by, User) else None,
        author_handle=by.get_username() if isinstance(by, User) else "",
        direction=Direction.OUT,
        kind=MessageKind.EMAIL if channel.kind == ChannelKind.EMAIL else MessageKind.REPLY,
        visibility=Visibility.PRIVATE if private else Visibility.PUBLIC,
        in_reply_to_external_id="" if email_to else parent.external_id,
        parent=parent,
        text=body,
        created_at=now,
    )
    message.external_id = f"earful:{message.code.hex}"
    message.save()
    refresh_conversations({conversation.pk})
    conversation.refresh_from_db()
    sync_clocks(conversation, now)
    enqueue(message, parent, channel, now, recipient=email_to.lower())
    record_event(
        conversation.organization,
        "conversation.replied",
        actor=by,
        target=conversation,
        after={"message": str(message.code), "channel": channel.name, "private": private},
    )
    return message
