"""Receiving Telegram's webhook calls: secret token, flood and idempotency, then ingest.

Telegram sends one update per call and retries until it gets a 2xx, so an update seen
before (by its update_id) is answered 200 and stored nothing; a call without the channel's
secret token is refused with 401 and stores nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from earful.channels.connector import PayloadError, SettingsError, parse_settings
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
from earful.channels.telegram.connector import TelegramSettings, to_record
from earful.pipeline.ingest import ingest_batch


def receive(channel: Channel, body: bytes, secret: str) -> Outcome:
    """Check and store one update; the outcome says what to answer."""
    try:
        settings = parse_settings("telegram", channel.settings)
    except SettingsError:
        return reject(channel, 503, "this Telegram channel is not configured")
    assert isinstance(settings, TelegramSettings)
    if settings.receive != "webhook" or not settings.webhook_secret:
        return reject(channel, 503, "this Telegram channel does not receive by webhook")
    if not hmac.compare_digest(settings.webhook_secret.encode(), secret.encode()):
        return reject(channel, 401, "the secret token does not match")
    if len(body) > MAX_BODY_BYTES:
        return reject(channel, 413, "the body is larger than 1 MB")
    try:
        update = json.loads(body)
        update_id = update["update_id"] if isinstance(update, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise PayloadError("the update has no numeric update_id")
        record = to_record(update)
    except (ValueError, UnicodeDecodeError, KeyError, PayloadError) as exc:
        return reject(channel, 400, f"not a Telegram update: {str(exc)[:200]}")
    digest = hashlib.sha256(f"telegram-update:{update_id}".encode()).hexdigest()
    if already_delivered(channel, digest):
        return Outcome(200, {"duplicate": True, "stored": 0})
    if flooded(channel, settings.max_per_minute):
        return reject(channel, 429, "too many updates; slow down", retry_after=60)
    delivery = remember_delivery(channel, digest)
    if delivery is None:
        return Outcome(200, {"duplicate": True, "stored": 0})
    if record is None:
        return Outcome(200, {"stored": 0})
    try:
        report = ingest_batch(channel, [(1, record)])
    except Exception:
        forget_delivery(delivery)
        raise
    note_stored(delivery, report.stored)
    return Outcome(200, {"stored": report.stored, "duplicates": report.duplicates})
