"""Outgoing webhooks: the organization's events (alerts, conversation changes) as signed JSON.

Driven by the event log: each endpoint keeps a cursor (the last Event id it queued), so
no other domain needs a hook; `queue_events` turns new events into deliveries, and
`deliver_due` posts them. A delivery is claimed with a conditional UPDATE (so two workers
never post it twice), posted outside any transaction through the guarded HTTP session,
and retried with exponential backoff until MAX_ATTEMPTS, then kept as dead.

Each post carries `X-Earful-Event` (the verb), `X-Earful-Delivery` (stable across
retries, for the receiver's idempotency), `X-Earful-Timestamp` and `X-Earful-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret>`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from earful.channels.http import HttpPolicy, OutboundError, check_destination, guarded_session
from earful.errors import DomainError

# The same retry schedule as replies to customers: 30 s, 1 min, 2 min ... up to 6 h.
from earful.inbox.outbox import backoff
from earful.insights.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from earful.org.events import record_event
from earful.org.models import Event, Organization

MAX_ATTEMPTS = 8
STALE_CLAIM = timedelta(minutes=15)
BATCH = 500
# Retries are ours (persistent, with backoff); the HTTP call itself tries once.
POLICY = HttpPolicy(timeout=10.0, retries=0)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _check_address(url: str) -> None:
    parts = urlsplit(url)
    try:
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OutboundError("only http(s) addresses with a host are allowed")
        # A name is checked again on every post (DNS may change); an address literal now.
        ipaddress.ip_address(parts.hostname.strip("[]"))
    except ValueError:
        return
    except OutboundError as exc:
        raise DomainError(f"cannot send to that address: {exc}") from None
    try:
        check_destination(parts.hostname, parts.port)
    except OutboundError as exc:
        raise DomainError(f"cannot send to that address: {exc}") from None


def _check_verbs(verbs: list[str]) -> list[str]:
    cleaned = [v.strip() for v in verbs if v.strip()]
    for verb in cleaned:
        if len(verb) > 64 or not all(ch.isalnum() or ch in "._-" for ch in verb):
            raise DomainError(f"{verb[:64]!r} is not an event name (letters, digits, . _ -)")
    return cleaned


@transaction.atomic
def add_endpoint(
    organization: Organization, url: str, *, verbs: list[str] | None = None, by: Any = None
) -> WebhookEndpoint:
    """Register an address for the organization's events; its secret is made here."""
    _check_address(url)
    if len(url) > 500:
        raise DomainError("the address is longer than 500 characters")
    latest = Event.objects.filter(organization=organization).order_by("-pk").first()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=url,
        secret=secrets.token_hex(32),
        verbs=_check_verbs(verbs or []),
        # Start from now: a new endpoint is not flooded with the organization's history.
        cursor=latest.pk if latest else 0,
    )
    record_event(
        organization,
        "webhook.added",
        actor=by,
        target=endpoint,
        after={"url": url, "verbs": endpoint.verbs},
    )
    return endpoint


@transaction.atomic
def remove_endpoint(endpoint: WebhookEndpoint, *, by: Any = None) -> None:
    """Stop sending to an endpoint and forget its pending deliveries."""
    record_event(
        endpoint.organization,
        "webhook.removed",
        actor=by,
        target=endpoint,
        before={"url": endpoint.url},
    )
    endpoint.delete()


def _wanted(endpoint: WebhookEndpoint, verb: str) -> bool:
    if verb.startswith("webhook."):
        return False  # never announce the webhooks themselves
    if not endpoint.verbs:
        return True
    return any(verb == v or (v.endswith(".") and verb.startswith(v)) for v in endpoint.verbs)


def payload(event: Event) -> dict[str, Any]:
    """What a receiver gets for one event."""
    return {
        "id": str(event.code),
        "organization": event.organization.slug,
        "verb": event.verb,
        "target": {"type": event.target_type, "id": event.target_id},
        "before": event.before,
        "after": event.after,
        "at": event.at.isoformat(),
    }


def queue_events(now: datetime) -> int:
    """Turn events after each enabled endpoint's cursor into deliveries; returns how many."""
    queued = 0
    for endpoint in WebhookEndpoint.objects.filter(enabled=True).select_related("organization"):
        with transaction.atomic():
            locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
            events = list(
                Event.objects.filter(organization_id=locked.organization_id, pk__gt=locked.cursor)
                .select_related("organization")
                .order_by("pk")[:BATCH]
            )
            if not events:
                continue
            deliveries = [
                WebhookDelivery(
                    endpoint=locked,
                    event_id=event.pk,
                    verb=event.verb,
                    payload=payload(event),
                    next_attempt_at=now,
                )
                for event in events
                if _wanted(locked, event.verb)
            ]
            WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            locked.cursor = events[-1].pk
            locked.save(update_fields=["cursor"])
            queued += len(deliveries)
    return queued


def deliver(delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Post one due delivery if this call wins its claim; None when it is not ours to send."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, sort_keys=True).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "X-Earful-Event": delivery.verb,
        "X-Earful-Delivery": f"{endpoint.code}:{delivery.event_id}",
        "X-Earful-Timestamp": timestamp,
        "X-Earful-Signature": sign(endpoint.secret, timestamp, body),
    }
    status: int | None = None
    try:
        with guarded_session(POLICY) as session:
            response = session.post(endpoint.url, data=body, headers=headers, allow_redirects=False)
        status = response.status_code
        error = "" if 200 <= status < 300 else f"answered HTTP {status}"
    except (OutboundError, OSError) as exc:
        error = str(exc) or exc.__class__.__name__
    delivery.response_status = status
    if not error:
        delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, now, ""
    else:
        dead = delivery.attempts >= MAX_ATTEMPTS
        delivery.status = DeliveryStatus.DEAD if dead else DeliveryStatus.PENDING
        delivery.last_error = error[:2000]
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.save(
        update_fields=["status", "sent_at", "last_error", "next_attempt_at", "response_status"]
    )
    return delivery


def deliver_due(now: datetime | None = None) -> int:
    """Post every due delivery (and retry stale claims); returns how many were attempted."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(status=DeliveryStatus.PENDING)
    due = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")
    return sum(deliver(pk, now) is not None for pk in due.values_list("pk", flat=True)[:BATCH])
