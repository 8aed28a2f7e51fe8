"""Receiving a webhook delivery: signature, timestamp, flood and idempotency, then ingest.

Rejections are logged (never stored: an unsigned flood must not fill the database) and
answered with a status the sender understands; a repeated delivery is answered like the
first, so a sender that retries after a lost answer stores nothing twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

from pydantic import ValidationError

from earful.channels.connector import SettingsError, parse_settings
from earful.channels.inbound import (
    MAX_BODY_BYTES,
    Outcome,
    already_delivered,
    flooded,
    forget_delivery,
    note_stored,
    reject,
    remember_delivery,
)
from earful.channels.models import Channel
from earful.channels.webhook.connector import WebhookDelivery, WebhookSettings, sign, to_record
from earful.pipeline.ingest import ingest_batch


def receive(
    channel: Channel, body: bytes, signature: str, timestamp: str, now: float | None = None
) -> Outcome:
    """Check and store one delivery; the outcome says what to answer."""
    try:
        settings = parse_settings("webhook", channel.settings)
    except SettingsError:
        return reject(channel, 503, "this webhook is not configured")
    assert isinstance(settings, WebhookSettings)
    now = time.time() if now is None else now
    if len(body) > MAX_BODY_BYTES:
        return reject(channel, 413, "the body is larger than 1 MB")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > settings.tolerance_seconds:
        return reject(channel, 400, "the timestamp is missing, too old or in the future")
    if not hmac.compare_digest(sign(settings.secret, timestamp, body), signature):
        return reject(channel, 401, "the signature does not match")
    digest = hashlib.sha256(signature.encode()).hexdigest()
    if already_delivered(channel, digest):
        return Outcome(200, {"duplicate": True, "stored": 0})
    if flooded(channel, settings.max_per_minute):
        return reject(channel, 429, "too many deliveries; slow down", retry_after=60)
    delivery_or_error = _parse(body)
    if isinstance(delivery_or_error, str):
        return reject(channel, 400, delivery_or_error)
    delivery = remember_delivery(channel, digest)
    if delivery is None:
        return Outcome(200, {"duplicate": True, "stored": 0})
    received_at = datetime.fromtimestamp(now, UTC).isoformat()
    records = [to_record(m, received_at) for m in delivery_or_error.messages]
    try:
        report = ingest_batch(channel, list(enumerate(records, start=1)))
    except Exception:
        forget_delivery(delivery)
        raise
    note_stored(delivery, report.stored)
    return Outcome(
        200,
        {
            "stored": report.stored,
            "duplicates": report.duplicates,
            "blocked": report.blocked,
            "rejected": [{"id": r.external_id, "reason": r.reason} for r in report.rejections[:20]],
        },
    )


def _parse(body: bytes) -> WebhookDelivery | str:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "the body is not JSON"
    if isinstance(data, dict) and "messages" not in data:
        data = {"messages": [data]}
    try:
        return WebhookDelivery.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"invalid delivery: {where} {first['msg']}"
