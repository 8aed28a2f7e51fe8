"""Receiving a widget submission: a signed form token, a honeypot, a flood limit, then ingest."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing

from earful.channels.connector import SettingsError, parse_settings
from earful.channels.inbound import flooded, remember_delivery
from earful.channels.models import Channel
from earful.channels.normalize import clip, http_url
from earful.channels.widget.connector import WidgetSettings
from earful.pipeline.ingest import ingest_batch

log = logging.getLogger(__name__)

MAX_TEXT = 5000
TOKEN_MAX_AGE = 24 * 3600
EMAIL = re.compile(r"[^@\s<>\"'(),;:\\]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,63}")
SALT = "earful.widget"


def form_token(channel: Channel) -> str:
    """A token the hosted form carries, proving it was served by us for this channel."""
    return signing.TimestampSigner(salt=SALT).sign(str(channel.code))


@dataclass
class Submission:
    """What the customer typed, untrusted."""

    text: str
    email: str = ""
    name: str = ""
    honeypot: str = ""
    token: str = ""
    page: str = ""


@dataclass
class Outcome:
    """How the submission went: HTTP status and the message to show."""

    status: int
    message: str
    errors: dict[str, str] | None = None


def receive(channel: Channel, form: Submission) -> Outcome:
    """Check and store one submission."""
    try:
        settings = parse_settings("widget", channel.settings)
    except SettingsError:
        return Outcome(503, "This form is not available right now.")
    assert isinstance(settings, WidgetSettings)
    try:
        signing.TimestampSigner(salt=SALT).unsign(form.token, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        log.warning("widget %s: expired or forged form token", channel.code)
        return Outcome(400, "This form has expired. Please reload the page and try again.")
    if form.honeypot:
        # Bots fill every field; people never see this one. Answer as if it worked.
        log.warning("widget %s: honeypot filled", channel.code)
        return Outcome(200, "Thank you, we have your message.")
    errors = _errors(form, settings)
    if errors:
        return Outcome(400, "Please check the form.", errors)
    if flooded(channel, settings.max_per_minute):
        log.warning("widget %s: too many submissions", channel.code)
        return Outcome(429, "Too many messages right now. Please try again in a minute.")
    text, email = form.text.strip(), form.email.strip().lower()
    digest = hashlib.sha256(f"{form.token}\n{email}\n{text}".encode()).hexdigest()
    if remember_delivery(channel, digest) is None:
        return Outcome(200, "Thank you, we have your message.")
    record: dict[str, object] = {
        "external_id": f"widget-{uuid.uuid4()}",
        "text": text,
        "created_at": datetime.now(UTC).isoformat(),
        "kind": "direct",
        "source": {"via": "widget", "reply_to": email, "page": http_url(form.page)},
    }
    if email or form.name.strip():
        record["author"] = {
            "external_id": email or f"widget-{digest[:16]}",
            "handle": email,
            "display_name": clip(form.name, 200),
        }
    report = ingest_batch(channel, [(1, record)])
    if report.rejections:
        return Outcome(400, "Please check the form.", {"text": report.rejections[0].reason})
    return Outcome(200, "Thank you, we have your message.")


def _errors(form: Submission, settings: WidgetSettings) -> dict[str, str]:
    errors = {}
    text = form.text.strip()
    if not text:
        errors["text"] = "Please write your message."
    elif len(text) > MAX_TEXT:
        errors["text"] = f"Please keep it under {MAX_TEXT:,} characters."
    email = form.email.strip()
    if email and (not settings.ask_email or not EMAIL.fullmatch(email)):
        errors["email"] = "This does not look like an email address."
    if len(form.name) > 200:
        errors["name"] = "Please shorten your name."
    return errors
