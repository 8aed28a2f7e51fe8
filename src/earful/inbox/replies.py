"""Replying to a customer: the composer's rules (channel, length, visibility) and the send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from earful.channels.connector import ConnectorError
from earful.channels.models import Channel, ChannelKind, ChannelMode
from earful.channels.outgoing import channel_for_reply
from earful.conversations.models import (
    Conversation,
    Direction,
    Handoff,
    Message,
    MessageKind,
    Status,
    Visibility,
)
from earful.conversations.stitching import case_reference
from earful.conversations.threading import refresh_conversations
from earful.errors import DomainError
from earful.inbox.outbox import enqueue
from earful.inbox.review_models import ReplyDraft
from earful.inbox.sla import sync_clocks
from earful.inbox.tone import check_tone
from earful.org.events import record_event
from earful.org.models import Membership
from earful.org.training import membership_of, needs_approval

Actor = User | AnonymousUser | None

# What each platform accepts in one post; None where there is no practical limit.
LENGTH_LIMITS: dict[str, int | None] = {
    ChannelKind.X: 280,
    ChannelKind.BLUESKY: 300,
    ChannelKind.MASTODON: 500,
    ChannelKind.REDDIT: 10000,
    ChannelKind.REVIEWS: 5000,
    ChannelKind.TELEGRAM: 4096,
    ChannelKind.DISCOURSE: 32000,
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


class ReplyHeldError(ReplyError):
    """A reply from a member in training: stored as a draft for a reviewer, not sent."""

    def __init__(self, draft: ReplyDraft) -> None:
        self.draft = draft
        flagged = " The tone guard flagged it." if draft.tone_flags else ""
        super().__init__(
            f"Your reply is held for review; it goes out once a reviewer approves it.{flagged}"
        )


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
    channel they wrote on to a private email. A member in training does not send: the
    reply is held as a draft for review and ReplyHeldError says so (earful.inbox.reviews).
    """
    membership = membership_of(by, conversation.organization_id)
    if membership is not None and needs_approval(membership):
        # Stored in its own transaction before the refusal is raised, so it is kept.
        raise ReplyHeldError(
            hold_reply(conversation, text, by=membership, now=now, parent=parent, email_to=email_to)
        )
    return deliver_reply(conversation, text, by=by, now=now, parent=parent, email_to=email_to)


@dataclass(frozen=True)
class Prepared:
    """A reply that passed the composer's rules: where it goes and what it says."""

    parent: Message
    channel: Channel
    body: str
    private: bool


def prepare_reply(
    conversation: Conversation, text: str, *, parent: Message | None, email_to: str
) -> Prepared:
    """Check a reply against the composer's rules (channel, length); ReplyError if it breaks one."""
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
    return Prepared(parent, channel, body, private)


@transaction.atomic
def deliver_reply(
    conversation: Conversation,
    text: str,
    *,
    by: Actor,
    now: datetime,
    parent: Message | None = None,
    email_to: str = "",
    approved_by: Actor = None,
) -> Message:
    """Send a reply (no training check): the message, the clocks, the outbox and the event.

    `approved_by` is the reviewer who let a trainee's draft go; the message stays the
    trainee's (`by`).
    """
    ready = prepare_reply(conversation, text, parent=parent, email_to=email_to)
    message = Message(
        organization_id=conversation.organization_id,
        channel=ready.channel,
        conversation=conversation,
        sent_by=by if isinstance(by, User) else None,
        author_handle=by.get_username() if isinstance(by, User) else "",
        direction=Direction.OUT,
        kind=MessageKind.EMAIL if ready.channel.kind == ChannelKind.EMAIL else MessageKind.REPLY,
        visibility=Visibility.PRIVATE if ready.private else Visibility.PUBLIC,
        in_reply_to_external_id="" if email_to else ready.parent.external_id,
        parent=ready.parent,
        text=ready.body,
        created_at=now,
    )
    message.external_id = f"earful:{message.code.hex}"
    message.save()
    refresh_conversations({conversation.pk})
    conversation.refresh_from_db()
    sync_clocks(conversation, now)
    enqueue(message, ready.parent, ready.channel, now, recipient=email_to.lower())
    after: dict[str, object] = {
        "message": str(message.code),
        "channel": ready.channel.name,
        "private": ready.private,
    }
    if isinstance(approved_by, User):
        after["approved_by"] = approved_by.get_username()
    record_event(
        conversation.organization,
        "conversation.replied",
        actor=by,
        target=conversation,
        after=after,
    )
    return message


def draft_text(text: str) -> str:
    """A draft's text as stored and compared: trimmed, with browsers' CRLF line ends as LF."""
    return text.replace("\r\n", "\n").strip()


def tone_findings(text: str) -> tuple[list[dict[str, str]], str]:
    """The tone guard's flags as stored on a draft, and its suggested rewrite."""
    result = check_tone(text)
    flags = [{"category": f.category, "reason": f.reason, "phrase": f.phrase} for f in result.flags]
    return flags, result.suggestion


@transaction.atomic
def hold_reply(
    conversation: Conversation,
    text: str,
    *,
    by: Membership,
    now: datetime,
    parent: Message | None = None,
    email_to: str = "",
    handoff: Handoff | None = None,
) -> ReplyDraft:
    """Keep a trainee's reply as a draft for review, with the tone guard's findings."""
    ready = prepare_reply(conversation, text, parent=parent, email_to=email_to)
    flags, suggestion = tone_findings(text)
    draft = ReplyDraft.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        author=by.user,
        parent=ready.parent,
        email_to=email_to.lower(),
        handoff=handoff,
        text=draft_text(text),
        tone_flags=flags,
        tone_suggestion=suggestion,
        created_at=now,
        updated_at=now,
    )
    record_event(
        conversation.organization,
        "reply.held",
        actor=by.user,
        target=conversation,
        after={"draft": str(draft.code), "flags": [f["category"] for f in flags]},
    )
    return draft
