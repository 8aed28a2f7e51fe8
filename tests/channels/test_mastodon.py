"""Mastodon through Mastodon.py against a local server speaking the instance's REST API."""

from __future__ import annotations

from typing import Any

import pytest

from earful.channels.connector import AuthError, OutgoingReply, PayloadError, build_connector
from earful.channels.http import RateLimitedError
from earful.channels.models import Channel
from earful.channels.outgoing import reply_for, send_reply
from earful.channels.scheduler import run_channel
from earful.channels.services import create_channel, save_listening_query
from earful.conversations.models import Message
from tests.channels.fakes import FAST, FakeServer, Reply, Seen, fixture_json, fixture_text

TOKEN = "good-token-123"


class FakeMastodon:
    """The endpoints earful uses, with min_id paging as the instance does it."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.notifications = fixture_json("mastodon", "notifications_page1.json") + fixture_json(
            "mastodon", "notifications_page2.json"
        )
        server.route("GET", "/api/v1/notifications", self.guarded(self.list_notifications))
        server.route("GET", "/api/v1/timelines/tag/.+", self.guarded(self.tag))
        server.route("GET", "/api/v2/search", self.guarded(self.search))
        server.route("POST", "/api/v1/statuses", self.guarded(self.post))
        server.route(
            "GET",
            "/api/v1/accounts/verify_credentials",
            self.guarded(lambda _: (200, {}, fixture_json("mastodon", "verify_credentials.json"))),
        )

    def guarded(self, handler: Any) -> Any:
        def check(seen: Seen) -> Reply:
            if seen.headers.get("authorization") != f"Bearer {TOKEN}":
                return 401, {}, fixture_json("mastodon", "error_401.json")
            return handler(seen)  # type: ignore[no-any-return]

        return check

    def list_notifications(self, seen: Seen) -> Reply:
        assert seen.query.get("types[]") == ["mention"]
        limit = int(seen.arg("limit", "40"))
        items = sorted(self.notifications, key=lambda n: int(n["id"]))
        if seen.arg("min_id"):
            page = [n for n in items if int(n["id"]) > int(seen.arg("min_id"))][:limit]
        else:
            page = items[-limit:]
        return 200, {"X-RateLimit-Remaining": "299"}, sorted(page, key=lambda n: -int(n["id"]))

    def tag(self, seen: Seen) -> Reply:
        statuses = fixture_json("mastodon", "timeline_tag.json")
        if seen.arg("min_id"):
            statuses = [s for s in statuses if int(s["id"]) > int(seen.arg("min_id"))]
        return 200, {}, statuses

    def search(self, seen: Seen) -> Reply:
        assert seen.arg("type") == "statuses"
        found = fixture_json("mastodon", "search_v2.json")
        if seen.arg("min_id"):
            found["statuses"] = []
        return 200, {}, found

    def post(self, seen: Seen) -> Reply:
        return 200, {}, fixture_json("mastodon", "status_posted.json")


@pytest.fixture
def instance(fake: FakeServer) -> FakeMastodon:
    return FakeMastodon(fake)


def settings(fake: FakeServer, **extra: Any) -> dict[str, Any]:
    return {"base_url": fake.url, "access_token": TOKEN, **extra}


@pytest.fixture
def account(org: Any, fake: FakeServer, instance: FakeMastodon) -> Channel:
    return create_channel(org, name="Mastodon", kind="mastodon", settings=settings(fake))


def test_it_reads_mentions_then_pages_and_resumes_from_the_cursor(
    org: Any, fake: FakeServer, instance: FakeMastodon
) -> None:
    account = create_channel(
        org, name="Paged", kind="mastodon", settings=settings(fake, page_size=2)
    )
    first = run_channel(account, policy=FAST)
    account.refresh_from_db()
    assert (first.stored, account.cursor["mentions"]) == (2, "8812")

    instance.notifications += [
        dict(n, id=str(9000 + i), status=dict(n["status"], id=str(113530000000000000 + i)))
        for i, n in enumerate(instance.notifications * 1)
    ]
    second = run_channel(account, policy=FAST)

    account.refresh_from_db()
    assert (second.pages, second.stored) == (2, 3)
    assert account.cursor["mentions"] == "9002"
    assert fake.requests_to("/api/v1/notifications")[-2].arg("min_id") == "8812"
    bag = Message.objects.get(external_id="113520000000000003")
    assert bag.text == "@acmeair my bag did not arrive in Porto, ref PTO-88213. Any news?"
    assert bag.author_handle == "@ana@toot.example"
    assert bag.identity is not None and bag.identity.audience_size == 812


def test_it_hears_hashtags_and_searches_through_the_listening_queries(
    org: Any, fake: FakeServer, instance: FakeMastodon
) -> None:
    save_listening_query(org, "brand", brands=["Acme Air"], exclusions=["hiring"])
    channel = create_channel(
        org,
        name="Listen",
        kind="mastodon",
        settings=settings(fake, mentions=False, hashtags=["#AcmeAir"]),
    )

    run = run_channel(channel, policy=FAST)

    texts = sorted(Message.objects.filter(channel=channel).values_list("text", flat=True))
    assert texts == [
        "Honestly Acme Air's new app is great, checked in in 20 seconds.",
        "Third delay this month on #AcmeAir. Never again.",
    ]
    assert run.not_heard == 1
    assert fake.requests_to("/api/v1/timelines/tag/AcmeAir")
    assert fake.requests_to("/api/v2/search")[0].arg("q") == '"Acme Air"'


def test_it_replies_under_the_status_mentioning_its_author(
    account: Channel, fake: FakeServer
) -> None:
    run_channel(account, policy=FAST)
    parent = Message.objects.get(external_id="113520000000000003")

    provider_id = send_reply(
        account,
        reply_for(parent, "So sorry Ana, your bag is on the 14:05 to Porto.", idempotency_key="k1"),
    )

    posted = fake.requests_to("/api/v1/statuses")[0]
    assert provider_id == "113520999000000001"
    form = posted.form()
    assert form["status"] == ["@ana@toot.example So sorry Ana, your bag is on the 14:05 to Porto."]
    assert form["in_reply_to_id"] == ["113520000000000003"]
    assert form["visibility"] == ["public"]
    assert posted.headers["idempotency-key"] == "k1"


def test_it_refuses_a_recipient_that_is_not_an_account_name(fake: FakeServer) -> None:
    connector = build_connector("mastodon", settings(fake), policy=FAST)

    with pytest.raises(Exception, match="not a Mastodon account"):
        connector.send(OutgoingReply(text="hi", to="evil\r\nX-Injected: 1"))


def test_an_expired_token_is_reported(org: Any, fake: FakeServer, instance: FakeMastodon) -> None:
    channel = create_channel(
        org, name="Expired", kind="mastodon", settings=settings(fake, access_token="expired-token")
    )

    run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert channel.last_error.startswith("credentials refused: the instance refused the access")
    assert "401 Unauthorized" in channel.last_error
    with pytest.raises(AuthError):
        build_connector("mastodon", channel.settings, policy=FAST).check()


def test_a_rate_limit_pauses_until_its_reset(fake: FakeServer) -> None:
    fake.reply(
        "GET",
        "/api/v1/notifications",
        429,
        {"error": "Too many requests"},
        **{"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0"},
        **{"X-RateLimit-Reset": "2099-01-01T00:00:00.000Z"},
    )
    connector = build_connector("mastodon", settings(fake), policy=FAST)

    with pytest.raises(RateLimitedError) as caught:
        connector.fetch(None)
    assert caught.value.until.year == 2099


def test_a_malformed_status_is_a_payload_error(fake: FakeServer) -> None:
    fake.reply("GET", "/api/v1/notifications", 200, [{"id": "1", "type": "mention", "status": {}}])
    connector = build_connector("mastodon", settings(fake), policy=FAST)

    with pytest.raises(PayloadError, match="not in Mastodon's format"):
        connector.fetch(None)


def test_check_names_the_account(fake: FakeServer, instance: FakeMastodon) -> None:
    connector = build_connector("mastodon", settings(fake), policy=FAST)

    assert connector.check() == f"logged in as @acmeair on {fake.url}/"


def test_the_notification_stream_delivers_mentions(
    org: Any, fake: FakeServer, instance: FakeMastodon
) -> None:
    from earful.channels.streams import stream_channel

    streaming = fake.url.replace("http://", "ws://")
    v2 = fixture_json("mastodon", "instance_v2.json")
    v2["configuration"]["urls"]["streaming"] = streaming
    fake.reply("GET", "/api/v2/instance", 200, v2)
    fake.reply(
        "GET",
        "/api/v1/instance",
        200,
        {"uri": "social.example", "urls": {"streaming_api": streaming}},
    )
    fake.route(
        "GET",
        "/api/v1/streaming/user/notification",
        instance.guarded(
            lambda _: (
                200,
                {"Content-Type": "text/event-stream"},
                fixture_text("mastodon", "streaming_user_notification.txt"),
            )
        ),
    )
    channel = create_channel(
        org, name="Streamed", kind="mastodon", settings=settings(fake, stream=True)
    )

    run = stream_channel(channel, policy=FAST)

    assert (run.error, run.stored) == ("", 2)
    assert Message.objects.filter(channel=channel, external_id="113520000000000003").exists()
