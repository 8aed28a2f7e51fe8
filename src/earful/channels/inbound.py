"""Bookkeeping shared by the push sources (webhook, widget): flood limits and idempotency."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from earful.channels.models import Channel, InboundDelivery

log = logging.getLogger(__name__)

FLOOD_WINDOW = timedelta(minutes=1)
# The largest body a push source accepts (a webhook delivery, a Telegram update).
MAX_BODY_BYTES = 1024 * 1024


@dataclass
class Outcome:
    """The HTTP answer to one push: status, JSON body, and how long to wait if flooded."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    retry_after: int | None = None


def reject(channel: Channel, status: int, reason: str, **extra: Any) -> Outcome:
    """Refuse a push with the reason, logged with the channel's kind and code."""
    log.warning("%s push to %s rejected (%d): %s", channel.kind, channel.code, status, reason)
    return Outcome(status, {"error": reason}, **extra)


def flooded(channel: Channel, limit: int, now: datetime | None = None) -> bool:
    """Whether the channel already accepted `limit` deliveries in the last minute."""
    since = (now or timezone.now()) - FLOOD_WINDOW
    return InboundDelivery.objects.filter(channel=channel, received_at__gte=since).count() >= limit


def already_delivered(channel: Channel, digest: str) -> bool:
    """Whether a delivery with this digest was accepted before."""
    return InboundDelivery.objects.filter(channel=channel, digest=digest).exists()


def remember_delivery(channel: Channel, digest: str) -> InboundDelivery | None:
    """Record an accepted delivery; None if a concurrent copy of it got there first."""
    try:
        with transaction.atomic():
            return InboundDelivery.objects.create(channel=channel, digest=digest)
    except IntegrityError:
        return None


def forget_delivery(delivery: InboundDelivery) -> None:
    """Drop a delivery whose messages could not be stored, so the sender's retry is accepted."""
    delivery.delete()


def note_stored(delivery: InboundDelivery, stored: int) -> None:
    """Record how many messages the delivery stored (answered again on a retry)."""
    delivery.stored = stored
    delivery.save(update_fields=["stored"])
