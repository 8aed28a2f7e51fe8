"""Telegram through python-telegram-bot against a local Bot API, and its webhook into earful."""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from earful.channels.connector import AuthError, OutgoingReply, PayloadError, build_connector
from earful.channels.http import RateLimitedError
from earful.channels.models import Channel, InboundDelivery, RawMessage
from earful.channels.outgoing import reply_for, send_reply
from earful.channels.scheduler import run_channel
from earful.channels.services import create_channel
from earful.conversations.models import Message
from tests.channels.fakes import FAST, FakeServer, Reply, Seen, fixture_json, fixture_text

TOKEN = "7712345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
BOT = f"/bot{TOKEN}"
SECRET = "whs_3f9c1e0b7a6d4c2e8f1a5b9d0c7e2f4a"


class FakeBotApi:
    """getUpdates confirming by offset and paging by limit, sendMessage and getMe."""

    def __init__(self, server: FakeServer) -> None:
        self.updates = fixture_json("telegram", "get_updates.json")["result"]
        server.route("POST", "/bot[^/]+/getUpdates", self.authed(self.get_updates))
        server.route("POST", "/bot[^/]+/getMe", self.authed(lambda _: self.ok("get_me.json")))
        server.route(
            "POST", "/bot[^/]+/sendMessage", self.authed(lambda _: self.ok("send_message.json"))
        )

    def authed(self, handler: Any) -> Any:
        def check(seen: Seen) -> Reply:
            if not seen.path.startswith(BOT + "/"):
                return 401, {}, fixture_json("telegram", "error_401.json")
            return handler(seen)

        return check

    def ok(self, name: str) -> Reply:
        return 200, {}, fixture_json("telegram", name)

    def get_updates(self, seen: Seen) -> Reply:
        params = params_of(seen)
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        page = [u for u in self.updates if u["update_id"] >= offset][:limit]
        return 200, {}, {"ok": True, "result": page}


def params_of(seen: Seen) -> dict[str, Any]:
    """The Bot API call's parameters, sent as JSON or as a form (both are documented)."""
    if seen.headers.get("content-type", "").startswith("application/json"):
        return dict(seen.json())
    return {k: v[0] for k, v in seen.form().items()}


@pytest.fixture
def network(fake: FakeServer) -> FakeBotApi:
    return FakeBotApi(fake)


def settings(fake: FakeServer, **extra: Any) -> dict[str, Any]:
    return {"bot_token": TOKEN, "api_base": fake.url, **extra}


def test_it_pages_by_offset_and_resumes_from_the_cursor(
    org: Any, fake: FakeServer, network: FakeBotApi
) -> None:
    channel = create_channel(
        org, name="Telegram", kind="telegram", settings=settings(fake, page_size=2)
    )

    first = run_channel(channel, policy=FAST)
    channel.refresh_from_db()

    assert (first.pages, first.stored, channel.cursor) == (3, 3, {"offset": 804512005})
    offsets = [params_of(s).get("offset") for s in fake.requests_to(f"{BOT}/getUpdates")]
    assert offsets == [None, "804512003", "804512005"]
    network.updates.append(fixture_json("telegram", "webhook_update.json"))
    second = run_channel(channel, policy=FAST)
    assert (second.stored, second.duplicates) == (1, 0)
    assert params_of(fake.requests_to(f"{BOT}/getUpdates")[-1])["offset"] == "804512005"


def test_messages_keep_their_author_chat_and_thread(
    org: Any, fake: FakeServer, network: FakeBotApi
) -> None:
    channel = create_channel(org, name="Telegram", kind="telegram", settings=settings(fake))
    run_channel(channel, policy=FAST)

    private = Message.objects.get(external_id="5512093311:311")
    assert (private.author_handle, private.url) == ("@aysekaya", "")
    reply = Message.objects.get(external_id="-1001823456789:9022")
    question = Message.objects.get(external_id="-1001823456789:9021")
    assert reply.text == "Same here, this is what I see"
    assert reply.in_reply_to_external_id == "-1001823456789:9021"
    assert reply.conversation == question.conversation
    assert question.url == "https://t.me/acmeair_community/9021"
    assert reply.raw is not None
    author = reply.raw.payload["author"]
    assert (author["external_id"], author["handle"], author["display_name"]) == (
        "7033100442",
        "",
        "Lena Hoff",
    )
    assert reply.raw.payload["source"]["chat_id"] == "-1001823456789"
    assert not Message.objects.filter(external_id="-1001823456789:9023").exists()


def test_it_replies_in_the_chat_to_the_message(
    org: Any, fake: FakeServer, network: FakeBotApi
) -> None:
    channel = create_channel(org, name="Telegram", kind="telegram", settings=settings(fake))
    run_channel(channel, policy=FAST)
    lena = Message.objects.get(external_id="-1001823456789:9022")

    new_id = send_reply(channel, reply_for(lena, "Thanks Lena, a fix is rolling out now."))

    sent = params_of(fake.requests_to(f"{BOT}/sendMessage")[0])
    assert new_id == "-1001823456789:9030"
    assert sent["chat_id"] == "-1001823456789"
    assert sent["text"] == "Thanks Lena, a fix is rolling out now."
    assert json.loads(sent["reply_parameters"])["message_id"] == 9022


def test_a_first_message_goes_to_the_users_private_chat(
    fake: FakeServer, network: FakeBotApi
) -> None:
    connector = build_connector("telegram", settings(fake), policy=FAST)

    connector.send(OutgoingReply(text="Your refund is on its way.", to="5512093311"))

    sent = params_of(fake.requests_to(f"{BOT}/sendMessage")[0])
    assert (sent["chat_id"], "reply_parameters" in sent) == ("5512093311", False)


def test_an_expired_token_is_an_auth_error(org: Any, fake: FakeServer, network: FakeBotApi) -> None:
    revoked = "7712345678:AAFrevokedrevokedrevokedrevoked00"
    channel = create_channel(
        org, name="Telegram", kind="telegram", settings=settings(fake, bot_token=revoked)
    )

    run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert channel.last_error == (
        "credentials refused: Telegram refused the bot token: Unauthorized"
    )
    with pytest.raises(AuthError):
        build_connector("telegram", settings(fake, bot_token=revoked), policy=FAST).check()


def test_a_rate_limit_pauses_for_retry_after(fake: FakeServer) -> None:
    fake.reply("POST", "/bot[^/]+/getUpdates", 429, fixture_json("telegram", "error_429.json"))

    with pytest.raises(RateLimitedError) as caught:
        build_connector("telegram", settings(fake), policy=FAST).fetch(None)

    assert caught.value.until > datetime.now(UTC) + timedelta(seconds=1700)


def test_a_malformed_update_is_a_payload_error(fake: FakeServer, network: FakeBotApi) -> None:
    broken = fixture_json("telegram", "get_updates.json")
    broken["result"][0]["message"]["chat"]["id"] = "../../etc"
    fake.reply("POST", "/bot[^/]+/getUpdates", 200, broken)

    with pytest.raises(PayloadError):
        build_connector("telegram", settings(fake), policy=FAST).fetch(None)


def test_a_body_that_is_not_json_is_a_payload_error(fake: FakeServer) -> None:
    fake.reply("POST", "/bot[^/]+/getUpdates", 200, "<html>gateway</html>")

    with pytest.raises(PayloadError):
        build_connector("telegram", settings(fake), policy=FAST).fetch(None)


def test_the_token_is_kept_out_of_the_logs(
    fake: FakeServer, network: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        build_connector("telegram", settings(fake), policy=FAST).check()

    assert "getMe" in caplog.text
    assert TOKEN.split(":")[1] not in caplog.text


def test_check_names_the_bot(fake: FakeServer, network: FakeBotApi) -> None:
    assert build_connector("telegram", settings(fake), policy=FAST).check() == (
        "the token belongs to the bot @AcmeSupportBot; messages arrive by polling"
    )


def test_it_works_under_a_caller_that_runs_an_event_loop(
    fake: FakeServer, network: FakeBotApi
) -> None:
    connector = build_connector("telegram", settings(fake), policy=FAST)

    async def caller() -> str:
        return connector.check()

    # On a thread of its own, so that the caller's loop is the only one there whatever else
    # this test process runs (Playwright's sync API keeps a loop running in the main thread).
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(asyncio.run, caller()).result()
    assert answer.startswith("the token belongs to the bot @AcmeSupportBot")


def test_it_refuses_to_reply_without_a_chat(fake: FakeServer) -> None:
    with pytest.raises(Exception, match="no Telegram chat"):
        build_connector("telegram", settings(fake), policy=FAST).send(
            OutgoingReply(text="hi", in_reply_to="../etc")
        )


@pytest.fixture
def hooked(org: Any) -> Channel:
    return create_channel(
        org,
        name="Telegram hook",
        kind="telegram",
        settings={"bot_token": TOKEN, "receive": "webhook", "webhook_secret": SECRET},
    )


def deliver(channel: Channel, body: bytes, secret: str | None = SECRET) -> Any:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return Client().post(
        f"/in/telegram/{channel.code}/", data=body, content_type="application/json", headers=headers
    )


def update_body() -> bytes:
    return fixture_text("telegram", "webhook_update.json").encode()


def test_the_webhook_stores_an_update_once(hooked: Channel) -> None:
    first = deliver(hooked, update_body())
    again = deliver(hooked, update_body())

    assert (first.status_code, first.json()["stored"]) == (200, 1)
    assert (again.status_code, again.json()) == (200, {"duplicate": True, "stored": 0})
    message = Message.objects.get(external_id="5512093311:315")
    assert message.author_handle == "@aysekaya"


@pytest.mark.parametrize("secret", [None, "", "whs_wrong", SECRET + "x"])
def test_the_webhook_refuses_a_wrong_or_missing_secret(hooked: Channel, secret: str | None) -> None:
    response = deliver(hooked, update_body(), secret=secret)

    assert response.status_code == 401
    assert not RawMessage.objects.filter(channel=hooked).exists()
    assert not InboundDelivery.objects.filter(channel=hooked).exists()


def test_the_webhook_refuses_a_malformed_update(hooked: Channel) -> None:
    response = deliver(hooked, b'{"update_id": "one", "message": {}}')

    assert response.status_code == 400
    assert not RawMessage.objects.filter(channel=hooked).exists()


def test_a_polling_channel_refuses_webhook_calls(org: Any) -> None:
    polled = create_channel(
        org, name="Polled", kind="telegram", settings={"bot_token": TOKEN, "webhook_secret": SECRET}
    )

    assert deliver(polled, update_body()).status_code == 503


def test_a_webhook_channel_does_not_poll(org: Any, fake: FakeServer, hooked: Channel) -> None:
    hooked.settings = {**hooked.settings, "api_base": fake.url}
    hooked.save()

    assert run_channel(hooked, policy=FAST).pages == 1
    assert fake.seen == []


def test_the_webhook_slows_a_flood_down(hooked: Channel) -> None:
    hooked.settings = {**hooked.settings, "max_per_minute": 1}
    hooked.save()
    other = json.loads(update_body())
    other["update_id"] += 1
    other["message"]["message_id"] += 1

    assert deliver(hooked, update_body()).status_code == 200
    flooded = deliver(hooked, json.dumps(other).encode())

    assert (flooded.status_code, flooded["Retry-After"]) == (429, "60")
    assert RawMessage.objects.filter(channel=hooked).count() == 1
