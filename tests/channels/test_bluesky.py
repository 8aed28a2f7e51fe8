"""Bluesky through atproto against a local server speaking XRPC (the PDS/AppView API)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from earful.channels.connector import AuthError, PayloadError, build_connector
from earful.channels.http import RateLimitedError
from earful.channels.models import Channel
from earful.channels.outgoing import reply_for, send_reply
from earful.channels.scheduler import run_channel
from earful.channels.services import create_channel, save_listening_query
from earful.conversations.models import Message
from tests.channels.fakes import FAST, FakeServer, Reply, Seen, fixture_json

PASSWORD = "app-pass-1234"
SESSION = fixture_json("bluesky", "create_session.json")


class FakeBluesky:
    """XRPC endpoints: session, profile, notifications, search (cursor paging), createRecord."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.search_pages = {
            None: fixture_json("bluesky", "search_posts_page1.json"),
            "2": fixture_json("bluesky", "search_posts_page2.json"),
        }
        self.notifications = fixture_json("bluesky", "list_notifications.json")
        self.expired = False
        x = "/xrpc/"
        server.route("POST", x + "com.atproto.server.createSession", self.create_session)
        server.route("GET", x + "app.bsky.actor.getProfile", self.authed(self.profile))
        server.route("GET", x + "app.bsky.feed.searchPosts", self.authed(self.search))
        server.route(
            "GET", x + "app.bsky.notification.listNotifications", self.authed(self.list_notes)
        )
        server.route("POST", x + "com.atproto.repo.createRecord", self.authed(self.create))

    def create_session(self, seen: Seen) -> Reply:
        body = seen.json()
        if body.get("password") != PASSWORD:
            return 401, {}, fixture_json("bluesky", "error_authentication.json")
        return 200, {}, SESSION

    def authed(self, handler: Any) -> Any:
        def check(seen: Seen) -> Reply:
            if self.expired:
                return 400, {}, fixture_json("bluesky", "error_expired_token.json")
            if seen.headers.get("authorization") != f"Bearer {SESSION['accessJwt']}":
                return 401, {}, fixture_json("bluesky", "error_authentication.json")
            return handler(seen)  # type: ignore[no-any-return]

        return check

    def profile(self, seen: Seen) -> Reply:
        return 200, {}, fixture_json("bluesky", "get_profile.json")

    def search(self, seen: Seen) -> Reply:
        return 200, {}, self.search_pages[seen.arg("cursor") or None]

    def list_notes(self, seen: Seen) -> Reply:
        return 200, {}, self.notifications

    def create(self, seen: Seen) -> Reply:
        return 200, {}, fixture_json("bluesky", "create_record.json")


@pytest.fixture
def network(fake: FakeServer) -> FakeBluesky:
    return FakeBluesky(fake)


def settings(fake: FakeServer, **extra: Any) -> dict[str, Any]:
    return {"service": fake.url, "handle": "acmeair.bsky.social", "app_password": PASSWORD, **extra}


@pytest.fixture
def account(org: Any, fake: FakeServer, network: FakeBluesky) -> Channel:
    return create_channel(org, name="Bluesky", kind="bluesky", settings=settings(fake))


def test_it_hears_a_post_naming_the_brand_without_a_mention(
    org: Any, fake: FakeServer, network: FakeBluesky
) -> None:
    save_listening_query(org, "brand", brands=["Acme Air"], exclusions=["hiring"])
    channel = create_channel(
        org, name="Listen", kind="bluesky", settings=settings(fake, mentions=False)
    )

    run = run_channel(channel, policy=FAST)

    assert run.error == ""
    assert fake.requests_to("/xrpc/app.bsky.feed.searchPosts")[0].arg("q") == '"Acme Air"'
    stroller = Message.objects.get(channel=channel, text__startswith="Acme Air lost my stroller")
    assert "@acmeair" not in stroller.text
    assert stroller.conversation is not None
    assert stroller.author_handle == "@mira.bsky.social"
    assert not Message.objects.filter(text__contains="hiring").exists()


def test_it_walks_back_a_search_and_resumes_from_the_cursor(
    org: Any, fake: FakeServer, network: FakeBluesky
) -> None:
    channel = create_channel(
        org,
        name="Search",
        kind="bluesky",
        settings=settings(fake, mentions=False, search=["acme air"]),
    )
    network.search_pages = {None: {"posts": []}}
    run_channel(channel, policy=FAST)
    channel.refresh_from_db()
    channel.cursor = {"q:acme air": {"seen": "2026-11-19T00:00:00+00:00", "next": None}}
    network.search_pages = {
        None: fixture_json("bluesky", "search_posts_page1.json"),
        "2": fixture_json("bluesky", "search_posts_page2.json"),
    }

    run = run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert (run.pages, run.stored) == (2, 3)
    assert [s.arg("cursor") for s in fake.requests_to("/xrpc/app.bsky.feed.searchPosts")] == [
        "",
        "",
        "2",
    ]
    assert channel.cursor["q:acme air"] == {
        "seen": "2026-11-20T09:01:00+00:00",
        "next": None,
        "top": None,
    }

    again = run_channel(channel, policy=FAST)

    assert (again.pages, again.stored) == (1, 0)


def test_it_reads_mentions_and_replies_but_not_likes(account: Channel) -> None:
    run_channel(account, policy=FAST)

    replies = Message.objects.filter(channel=account).order_by("created_at")
    assert [m.kind for m in replies] == ["post", "reply"]
    assert replies[1].in_reply_to_external_id.endswith("/app.bsky.feed.post/3lbpzacme999")


def test_it_replies_in_the_thread(account: Channel, fake: FakeServer) -> None:
    run_channel(account, policy=FAST)
    parent = Message.objects.get(text__contains="still waiting on that refund")

    uri = send_reply(account, reply_for(parent, "Sam, the refund left today."))

    body = fake.requests_to("/xrpc/com.atproto.repo.createRecord")[0].json()
    assert uri == "at://did:plc:acmeair7xq2k4mblx3rnyp6c/app.bsky.feed.post/3lbq4reply01"
    assert body["collection"] == "app.bsky.feed.post"
    assert body["record"]["text"] == "Sam, the refund left today."
    assert body["record"]["reply"]["parent"]["uri"] == parent.external_id
    assert body["record"]["reply"]["root"]["uri"].endswith("/3lbpzacme999")


def test_a_refused_login_is_reported(org: Any, fake: FakeServer, network: FakeBluesky) -> None:
    channel = create_channel(
        org, name="Wrong", kind="bluesky", settings=settings(fake, app_password="revoked")
    )

    run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert "Invalid identifier or password" in channel.last_error
    assert channel.last_error.startswith("credentials refused")


def test_an_expired_token_is_an_auth_error(fake: FakeServer, network: FakeBluesky) -> None:
    network.expired = True

    with pytest.raises(AuthError, match="ExpiredToken"):
        build_connector("bluesky", settings(fake), policy=FAST).fetch(None)


def test_a_rate_limit_pauses_until_its_reset(fake: FakeServer, network: FakeBluesky) -> None:
    fake.reply(
        "GET",
        "/xrpc/app.bsky.notification.listNotifications",
        429,
        fixture_json("bluesky", "error_rate_limit.json"),
        **{"RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": "4102444800"},
    )

    with pytest.raises(RateLimitedError) as caught:
        build_connector("bluesky", settings(fake), policy=FAST).fetch(None)
    assert caught.value.until.year == 2100


def test_a_malformed_payload_is_a_payload_error(fake: FakeServer, network: FakeBluesky) -> None:
    broken = copy.deepcopy(network.notifications)
    del broken["notifications"][0]["author"]
    network.notifications = broken

    with pytest.raises(PayloadError):
        build_connector("bluesky", settings(fake), policy=FAST).fetch(None)


def test_check_names_the_account(fake: FakeServer, network: FakeBluesky) -> None:
    message = build_connector("bluesky", settings(fake), policy=FAST).check()

    assert message == f"logged in as @acmeair.bsky.social on {fake.url}/"
