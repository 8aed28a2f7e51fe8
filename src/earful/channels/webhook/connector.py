"""Webhook in: any system POSTs messages as JSON, signed with HMAC-SHA256 and timestamped.

Wire format (docs/channels.md has a worked example):
    POST /in/webhook/<channel code>/
    X-Earful-Timestamp: <unix seconds>
    X-Earful-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
    {"messages": [{"id": "...", "text": "...", ...}]}   (or one message object)

Replies, when a reply URL is set, are POSTed there signed the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from earful.channels.connector import (
    AuthError,
    ChannelSettings,
    ConnectorError,
    OutgoingReply,
    PushConnector,
)
from earful.channels.http import RateLimitedError, guarded_session, rate_limit_until
from earful.channels.normalize import clip

SIGNATURE_HEADER = "X-Earful-Signature"
TIMESTAMP_HEADER = "X-Earful-Timestamp"


class WebhookSettings(ChannelSettings):
    """The shared signing secret, the flood limit, and where replies go (optional)."""

    secret: str = Field(min_length=32, max_length=200)
    reply_url: HttpUrl | None = None
    max_per_minute: int = Field(default=60, ge=1, le=10_000)
    tolerance_seconds: int = Field(default=300, ge=30, le=3600)


class WebhookAuthor(BaseModel):
    """Who wrote the message, as the sending system knows them."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=255)
    handle: str = Field(default="", max_length=255)
    name: str = Field(default="", max_length=200)
    profile_url: str = Field(default="", max_length=500)


class WebhookMessage(BaseModel):
    """One message in a delivery; fields beyond these are ignored, not stored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=255)
    text: str = Field(min_length=1, max_length=100_000)
    created_at: str = Field(default="", max_length=64)
    kind: str = Field(default="post", max_length=16)
    author: WebhookAuthor | None = None
    in_reply_to: str = Field(default="", max_length=255)
    url: str = Field(default="", max_length=1000)


class WebhookDelivery(BaseModel):
    """A delivery: a list of messages (at most 100)."""

    model_config = ConfigDict(extra="ignore")

    messages: list[WebhookMessage] = Field(min_length=1, max_length=100)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at a timestamp."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def to_record(message: WebhookMessage, received_at: str) -> dict[str, Any]:
    """The ingest record for one webhook message (ingest validates it again)."""
    record: dict[str, Any] = {
        "external_id": message.id,
        "text": message.text,
        "created_at": message.created_at or received_at,
        "kind": message.kind,
        "in_reply_to": message.in_reply_to,
        "url": message.url,
        "source": {"via": "webhook"},
    }
    if message.author is not None:
        record["author"] = {
            "external_id": message.author.id,
            "handle": message.author.handle,
            "display_name": message.author.name,
            "profile_url": message.author.profile_url,
        }
    return record


class WebhookConnector(PushConnector):
    """A push source: replies go to the sender's reply URL if it has one."""

    kind = "webhook"
    settings_model = WebhookSettings
    settings: WebhookSettings

    def send(self, reply: OutgoingReply) -> str:
        """POST the reply, signed, to the reply URL; return the id the receiver gives it."""
        if self.settings.reply_url is None:
            raise ConnectorError("this webhook has no reply URL; replies cannot be delivered")
        body = json.dumps(
            {
                "text": reply.text,
                "in_reply_to": reply.in_reply_to,
                "to": reply.to,
                "idempotency_key": reply.idempotency_key,
            }
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.settings.secret, timestamp, body),
        }
        if reply.idempotency_key:
            headers["Idempotency-Key"] = reply.idempotency_key
        with guarded_session(self.policy) as session:
            try:
                response = session.post(str(self.settings.reply_url), data=body, headers=headers)
            except requests.RequestException as exc:
                raise ConnectorError(f"cannot reach the reply URL: {exc}") from None
        if response.status_code in (401, 403):
            raise AuthError(f"the reply URL refused our signature (HTTP {response.status_code})")
        if response.status_code == 429:
            raise RateLimitedError(rate_limit_until(response.headers))
        if not 200 <= response.status_code < 300:
            raise ConnectorError(f"the reply URL answered HTTP {response.status_code}")
        try:
            provider_id = response.json().get("id")
        except (ValueError, AttributeError):
            provider_id = None
        return clip(provider_id or reply.idempotency_key or timestamp, 255)

    def check(self) -> str:
        """Say how the webhook is set up (nothing to log in to)."""
        where = str(self.settings.reply_url) if self.settings.reply_url else "nowhere"
        return (
            f"signed webhook ready; at most {self.settings.max_per_minute}/min; replies to {where}"
        )


connector_class = WebhookConnector
