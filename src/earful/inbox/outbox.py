"""The persistent outbox: every reply is delivered through its channel exactly once.

An item is claimed with a conditional UPDATE (pending and due -> sending), so two workers
never send the same reply; the send happens outside any transaction; the outcome is written
with its event. Failures are retried with exponential backoff and, after MAX_ATTEMPTS, kept
as dead letters. The idempotency key travels with the reply, so a platform that supports
keys also refuses a repeat after a crash between send and write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from earful.channels.connector import Attachment, OutgoingReply, connector_class
from earful.channels.http import OutboundError
from earful.channels.models import Channel, ChannelKind
from earful.channels.outgoing import reply_for, send_reply
from earful.conversations.models import Message
from earful.inbox.models import OutboxItem, OutboxStatus
from earful.org.events import record_event

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30
MAX_BACKOFF = timedelta(hours=6)
# A claim older than this is taken as a crashed worker's and tried again (same key).
STALE_CLAIM = timedelta(minutes=15)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the given number of failed attempts: 30 s, 1 min, 2 min..."""
    seconds = BACKOFF_SECONDS * 2 ** min(max(attempts - 1, 0), 20)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def records_only(channel: Channel) -> bool:
    """Channels earful cannot send through (no connector, or one never set up) record replies.

    Email always sends: it is the one channel every organization can answer through.
    """
    if channel.kind == ChannelKind.EMAIL:
        return False
    return connector_class(channel.kind) is None or not channel.settings


def enqueue(
    message: Message,
    parent: Message | None,
    channel: Channel,
    now: datetime,
    recipient: str = "",
    media: Sequence[Attachment] = (),
) -> OutboxItem:
    """Add a reply or post to the outbox (inside the caller's transaction); delivery runs on
    commit. `media` paths are relative to EARFUL_HOME."""
    item = OutboxItem.objects.create(
        organization_id=message.organization_id,
        message=message,
        parent=parent,
        channel=channel,
        recipient=recipient,
        media=[asdict(attachment) for attachment in media],
        idempotency_key=message.code.hex,
        next_attempt_at=now,
    )
    transaction.on_commit(lambda: deliver(item.pk))
    return item


def deliver(item_id: int, now: datetime | None = None) -> OutboxItem | None:
    """Send one due item if this call wins its claim; None when another has it or it is done."""
    now = now or timezone.now()
    claimed = OutboxItem.objects.filter(
        pk=item_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now
    ).update(status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    item = OutboxItem.objects.select_related("message__conversation", "parent__raw", "channel").get(
        pk=item_id
    )
    try:
        if records_only(item.channel):
            provider_id, status = f"recorded:{item.idempotency_key}", OutboxStatus.RECORDED
        else:
            provider_id = send_reply(item.channel, _reply(item))
            status = OutboxStatus.SENT
    except OutboundError as exc:
        return _failed(item, str(exc) or exc.__class__.__name__, now)
    return _delivered(item, provider_id, status, now)


def _reply(item: OutboxItem) -> OutgoingReply:
    key = item.idempotency_key
    if item.recipient:
        subject = item.message.conversation.subject if item.message.conversation else ""
        return OutgoingReply(
            text=item.message.text,
            to=item.recipient,
            context={"subject": subject},
            idempotency_key=key,
        )
    if item.parent is not None:
        return reply_for(item.parent, item.message.text, idempotency_key=key)
    home = Path(settings.EARFUL_HOME)
    media = tuple(
        Attachment(str(home / m["path"]), m["content_type"], m.get("description", ""))
        for m in item.media
    )
    return OutgoingReply(text=item.message.text, idempotency_key=key, media=media)


@transaction.atomic
def _delivered(item: OutboxItem, provider_id: str, status: str, now: datetime) -> OutboxItem:
    item.status, item.provider_id, item.sent_at, item.last_error = status, provider_id, now, ""
    item.save(update_fields=["status", "provider_id", "sent_at", "last_error"])
    taken = Message.objects.filter(channel_id=item.message.channel_id, external_id=provider_id)
    if status == OutboxStatus.SENT and not taken.exists():
        # The platform's id threads the customer's answer to this reply.
        Message.objects.filter(pk=item.message_id).update(external_id=provider_id)
    record_event(
        item.message.organization,
        f"outbox.{status}",
        target=item.message,
        after={"provider_id": provider_id, "attempts": item.attempts},
    )
    return item


@transaction.atomic
def _failed(item: OutboxItem, error: str, now: datetime) -> OutboxItem:
    dead = item.attempts >= MAX_ATTEMPTS
    item.status = OutboxStatus.DEAD if dead else OutboxStatus.PENDING
    item.last_error = error[:2000]
    item.next_attempt_at = now + backoff(item.attempts)
    item.save(update_fields=["status", "last_error", "next_attempt_at"])
    record_event(
        item.message.organization,
        "outbox.dead" if dead else "outbox.failed",
        target=item.message,
        after={"error": item.last_error, "attempts": item.attempts},
    )
    return item


def deliver_due(now: datetime | None = None) -> int:
    """Deliver every due item (and retry stale claims); returns how many were attempted."""
    now = now or timezone.now()
    OutboxItem.objects.filter(status=OutboxStatus.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=OutboxStatus.PENDING
    )
    due = OutboxItem.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
    return sum(deliver(pk, now) is not None for pk in due.values_list("pk", flat=True))


@transaction.atomic
def retry_dead(item: OutboxItem, *, now: datetime) -> OutboxItem:
    """Put a dead letter back in line after a person fixed its cause."""
    if item.status != OutboxStatus.DEAD:
        return item
    item.status, item.next_attempt_at, item.attempts = OutboxStatus.PENDING, now, 0
    item.save(update_fields=["status", "next_attempt_at", "attempts"])
    record_event(item.message.organization, "outbox.retried", target=item.message)
    return item
