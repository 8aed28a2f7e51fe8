"""Webhook in: signed, timestamped deliveries are stored once; bad ones are refused and logged."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from django.test import Client

from earful.channels.connector import OutgoingReply, build_connector
from earful.channels.models import Channel, RawMessage
from earful.channels.services import create_channel
from earful.channels.webhook.connector import sign
from earful.conversations.models import Message
from tests.channels.fakes import FAST, FakeServer, fixture_text

SECRET = "s3cret-s3cret-s3cret-s3cret-s3cret-42"


@pytest.fixture
def hook(org: Any) -> Channel:
    return create_channel(
        org, name="Helpdesk", kind="webhook", settings={"secret": SECRET, "max_per_minute": 3}
    )


def post(
    channel: Channel,
    body: bytes,
    *,
    timestamp: int | None = None,
    secret: str = SECRET,
    signature: str | None = None,
) -> Any:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return Client().post(
        f"/in/webhook/{channel.code}/",
        data=body,
        content_type="application/json",
        headers={
            "X-Earful-Timestamp": ts,
            "X-Earful-Signature": signature or sign(secret, ts, body),
        },
    )


def delivery() -> bytes:
    return fixture_text("webhook", "delivery.json").encode()


def test_it_stores_a_signed_delivery(hook: Channel) -> None:
    response = post(hook, delivery())

    assert response.status_code == 200
    assert response.json()["stored"] == 2
    reply = Message.objects.get(external_id="zendesk-ticket-88121-comment-2")
    assert (
        reply.conversation
        == Message.objects.get(external_id="zendesk-ticket-88121-comment-1").conversation
    )
    assert reply.author_handle == "m.oyelaran"


def test_it_stores_a_delivery_once_when_delivered_twice(hook: Channel) -> None:
    ts = int(time.time())
    first = post(hook, delivery(), timestamp=ts)
    second = post(hook, delivery(), timestamp=ts)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"duplicate": True, "stored": 0}
    assert RawMessage.objects.filter(channel=hook).count() == 2


def test_it_stores_a_resent_message_once(hook: Channel) -> None:
    post(hook, delivery(), timestamp=int(time.time()) - 5)
    again = post(hook, delivery())

    assert again.json()["duplicates"] == 2
    assert RawMessage.objects.filter(channel=hook).count() == 2


def test_it_rejects_and_logs_a_bad_signature(
    hook: Channel, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="earful.channels.webhook.receiver"):
        response = post(hook, delivery(), secret="not-the-secret-not-the-secret-0000")

    assert response.status_code == 401
    assert "signature does not match" in caplog.text
    assert not RawMessage.objects.exists()


def test_it_rejects_and_logs_an_old_timestamp(
    hook: Channel, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="earful.channels.webhook.receiver"):
        response = post(hook, delivery(), timestamp=int(time.time()) - 3600)

    assert response.status_code == 400
    assert "too old" in caplog.text
    assert not RawMessage.objects.exists()


def test_it_rejects_and_logs_a_flood(hook: Channel, caplog: pytest.LogCaptureFixture) -> None:
    for n in range(3):
        body = json.dumps({"id": f"m{n}", "text": "ping"}).encode()
        assert post(hook, body).status_code == 200

    with caplog.at_level(logging.WARNING, logger="earful.channels.webhook.receiver"):
        response = post(hook, json.dumps({"id": "m9", "text": "ping"}).encode())

    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "too many deliveries" in caplog.text
    assert RawMessage.objects.filter(channel=hook).count() == 3


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "the body is not JSON"),
        (b'{"messages": []}', "invalid delivery: messages"),
        (b'{"id": "x"}', "invalid delivery: messages.0.text Field required"),
    ],
)
def test_it_rejects_a_malformed_payload(hook: Channel, body: bytes, reason: str) -> None:
    response = post(hook, body)

    assert response.status_code == 400
    assert response.json()["error"].startswith(reason)


def test_it_reports_a_record_ingest_refuses(hook: Channel) -> None:
    body = json.dumps({"id": "js", "text": "hi", "url": "javascript:alert(1)"}).encode()

    response = post(hook, body)

    assert response.json()["stored"] == 0
    assert "must be an http(s) URL" in response.json()["rejected"][0]["reason"]


def test_it_answers_404_for_an_unknown_or_other_kind_of_channel(channel: Channel) -> None:
    assert post(channel, delivery()).status_code == 404


def test_it_refuses_get() -> None:
    response = Client().get("/in/webhook/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 405


def test_it_sends_a_signed_reply(fake: FakeServer) -> None:
    fake.reply("POST", "/replies", 201, {"id": "reply-77"})
    connector = build_connector(
        "webhook", {"secret": SECRET, "reply_url": fake.url + "/replies"}, policy=FAST
    )

    provider_id = connector.send(OutgoingReply(text="Refund issued.", in_reply_to="t-1"))

    seen = fake.requests_to("/replies")[0]
    assert provider_id == "reply-77"
    assert seen.json()["in_reply_to"] == "t-1"
    assert seen.headers["x-earful-signature"] == sign(
        SECRET, seen.headers["x-earful-timestamp"], seen.body
    )


def test_it_reports_a_refused_reply_signature(fake: FakeServer) -> None:
    from earful.channels.connector import AuthError

    fake.reply("POST", "/replies", 401, {"error": "bad signature"})
    connector = build_connector(
        "webhook", {"secret": SECRET, "reply_url": fake.url + "/replies"}, policy=FAST
    )

    with pytest.raises(AuthError):
        connector.send(OutgoingReply(text="hi"))


def test_it_refuses_a_short_secret(org: Any) -> None:
    from earful.channels.services import ChannelError

    with pytest.raises(ChannelError, match="secret"):
        create_channel(org, name="Weak", kind="webhook", settings={"secret": "short"})
