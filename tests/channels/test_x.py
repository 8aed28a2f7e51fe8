"""X through tweepy (API v2) against a local server speaking the v2 JSON and its errors."""

from __future__ import annotations

from typing import Any

import pytest

from earful.channels.connector import AuthError, OutgoingReply, PayloadError, build_connector
from earful.channels.http import RateLimitedError
from earful.channels.outgoing import reply_for, send_reply
from earful.channels.scheduler import run_channel
from earful.channels.services import create_channel, save_listening_query
from earful.conversations.models import Message
from tests.channels.fakes import FAST, FakeServer, Reply, Seen, fixture_json

BEARER = "AAAAAAAAAAAAAAAAAAAAAbearer-for-tests"
SEARCH = "/2/tweets/search/recent"


class FakeX:
    """Recent search with since_id/next_token paging, mentions, and posting."""

    def __init__(self, server: FakeServer) -> None:
        self.pages = {
            "": fixture_json("x", "search_recent_page1.json"),
            "b26v89c19zqg8o3fqk0u0yb8b4h3zy1bc9jz": fixture_json("x", "search_recent_page2.json"),
        }
        server.route("GET", SEARCH, self.authed(self.search))
        server.route("GET", "/2/users/[0-9]+/mentions", self.authed(self.mentions))
        server.route("POST", "/2/tweets", self.post)

    def authed(self, handler: Any) -> Any:
        def check(seen: Seen) -> Reply:
            if seen.headers.get("authorization") != f"Bearer {BEARER}":
                return 401, {}, fixture_json("x", "error_401.json")
            status, _, body = handler(seen)
            return status, {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449"}, body

        return check

    def search(self, seen: Seen) -> Reply:
        page = self.pages.get(seen.arg("next_token"))
        return 200, {}, page or fixture_json("x", "search_recent_empty.json")

    def mentions(self, seen: Seen) -> Reply:
        return 200, {}, fixture_json("x", "users_mentions.json")

    def post(self, seen: Seen) -> Reply:
        if not seen.headers.get("authorization", "").startswith("OAuth "):
            return 403, {}, fixture_json("x", "error_403_client_not_enrolled.json")
        return 201, {}, fixture_json("x", "create_tweet.json")


@pytest.fixture
def network(fake: FakeServer) -> FakeX:
    return FakeX(fake)


def settings(fake: FakeServer, **extra: Any) -> dict[str, Any]:
    return {
        "bearer_token": BEARER,
        "user_id": "1200000000000000001",
        "consumer_key": "ck-123456",
        "consumer_secret": "cs-123456",
        "access_token": "at-123456",
        "access_token_secret": "ats-123456",
        "api_base": fake.url,
        **extra,
    }


def test_it_hears_the_brand_and_walks_back_from_the_cursor(
    org: Any, fake: FakeServer, network: FakeX
) -> None:
    save_listening_query(org, "brand", brands=["Acme Air"], exclusions=["hiring"])
    channel = create_channel(
        org, name="X", kind="x", settings=settings(fake, user_id="", page_size=10)
    )
    first = run_channel(channel, policy=FAST)
    channel.refresh_from_db()
    key = 'q:"acme air" -hiring -is:retweet'
    assert (first.stored, channel.cursor[key]["since"]) == (2, "1859012938471002113")

    channel.cursor = {key: {"since": "1858000000000000000", "next": None}}
    second = run_channel(channel, policy=FAST)

    requests = fake.requests_to(SEARCH)
    assert requests[0].arg("query") == '"Acme Air" -hiring -is:retweet'
    assert [(r.arg("since_id"), r.arg("next_token")) for r in requests[1:]] == [
        ("1858000000000000000", ""),
        ("1858000000000000000", "b26v89c19zqg8o3fqk0u0yb8b4h3zy1bc9jz"),
    ]
    assert (second.pages, second.stored, second.duplicates, second.not_heard) == (2, 0, 2, 1)
    mala = Message.objects.get(external_id="1859012938471002113")
    assert mala.author_handle == "@joaosilva_pt"
    assert mala.url == "https://x.com/joaosilva_pt/status/1859012938471002113"


def test_it_reads_mentions_and_replies_in_the_thread(
    org: Any, fake: FakeServer, network: FakeX
) -> None:
    channel = create_channel(org, name="X", kind="x", settings=settings(fake))
    run_channel(channel, policy=FAST)
    mention = Message.objects.get(external_id="1859020001122334455")
    assert mention.in_reply_to_external_id == "1859012000000000001"

    new_id = send_reply(channel, reply_for(mention, "Lamentamos, João. Enviámos-lhe uma DM."))

    posted = fake.requests_to("/2/tweets")[0]
    assert new_id == "1859030000000000001"
    assert posted.json() == {
        "text": "Lamentamos, João. Enviámos-lhe uma DM.",
        "reply": {"in_reply_to_tweet_id": "1859020001122334455"},
    }


def test_replying_without_user_tokens_says_so(fake: FakeServer, network: FakeX) -> None:
    connector = build_connector("x", settings(fake, consumer_key="", access_token=""), policy=FAST)

    with pytest.raises(AuthError, match="403 Forbidden"):
        connector.send(OutgoingReply(text="hi", in_reply_to="1859020001122334455"))


def test_an_expired_token_is_an_auth_error(org: Any, fake: FakeServer, network: FakeX) -> None:
    channel = create_channel(
        org, name="X", kind="x", settings=settings(fake, bearer_token="revoked-bearer-0000")
    )

    run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert channel.last_error.startswith("credentials refused: X refused the credentials")
    assert "401" in channel.last_error


def test_a_rate_limit_pauses_until_its_reset(fake: FakeServer) -> None:
    fake.reply(
        "GET",
        "/2/users/[0-9]+/mentions",
        429,
        fixture_json("x", "error_429.json"),
        **{"x-rate-limit-remaining": "0", "x-rate-limit-reset": "4102444800"},
    )

    with pytest.raises(RateLimitedError) as caught:
        build_connector("x", settings(fake), policy=FAST).fetch(None)
    assert caught.value.until.year == 2100


def test_a_malformed_payload_is_a_payload_error(fake: FakeServer, network: FakeX) -> None:
    broken = fixture_json("x", "users_mentions.json")
    broken["data"][0]["id"] = "../../etc"
    fake.reply("GET", "/2/users/[0-9]+/mentions", 200, broken)

    with pytest.raises(PayloadError, match="v2 format"):
        build_connector("x", settings(fake), policy=FAST).fetch(None)


def test_check_reads_with_the_bearer_token(fake: FakeServer, network: FakeX) -> None:
    assert build_connector("x", settings(fake), policy=FAST).check() == (
        "the bearer token can search recent posts"
    )


def test_it_refuses_to_reply_to_a_non_numeric_id(fake: FakeServer) -> None:
    with pytest.raises(Exception, match="not an X post id"):
        build_connector("x", settings(fake), policy=FAST).send(
            OutgoingReply(text="hi", in_reply_to="1/../2")
        )
