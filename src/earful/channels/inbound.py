"""Bookkeeping shared by the push sources (webhook, widget): flood limits and idempotency."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from earful.channels.models import Channel, InboundDelivery

FLOOD_WINDOW = timedelta(minutes=1)


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
