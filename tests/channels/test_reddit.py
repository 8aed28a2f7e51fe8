"""Reddit through praw against a local server speaking Reddit's OAuth and listing API."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from earful.channels.connector import (
    AuthError,
    ConnectorError,
    OutgoingReply,
    PayloadError,
    build_connector,
)
from earful.channels.http import RateLimitedError
from earful.channels.models import Channel
from earful.channels.outgoing import reply_for, send_reply
from earful.channels.scheduler import run_channel
from earful.channels.services import create_channel, save_listening_query
from earful.conversations.models import Message
from tests.channels.fakes import FAST, FakeServer, Reply, Seen, fixture_json

LIMITS = {"x-ratelimit-remaining": "995.0", "x-ratelimit-used": "5", "x-ratelimit-reset": "420"}


class FakeReddit:
    """The token endpoint and the listings earful reads, with `before=` paging."""

    def __init__(self, server: FakeServer) -> None:
        self.posts = (
            fixture_json("reddit", "subreddit_new_page1.json")["data"]["children"]
            + fixture_json("reddit", "subreddit_new_page2.json")["data"]["children"]
        )
        self.token = fixture_json("reddit", "access_token.json")["access_token"]
        server.route("POST", "/api/v1/access_token", self.access_token)
        server.route("GET", "/r/flights/new", self.authed(self.new))
        server.route("GET", "/search", self.authed(self.search))
        server.route("GET", "/message/mentions", self.authed(self.mentions))
        server.route("POST", "/api/comment", self.authed(self.comment))
        server.route("POST", "/api/submit", self.authed(self.submit))
        server.route(
            "GET",
            "/api/v1/me",
            self.authed(lambda _: (200, {}, fixture_json("reddit", "api_v1_me.json"))),
        )

    def access_token(self, seen: Seen) -> Reply:
        basic = base64.b64encode(b"app-client-id:app-secret-value").decode()
        if seen.headers.get("authorization") != f"Basic {basic}":
            return 401, {}, fixture_json("reddit", "error_401.json")
        form = seen.form()
        if form.get("password") == ["hunter2-hunter2"] or form.get("refresh_token"):
            return 200, {}, fixture_json("reddit", "access_token.json")
        return 200, {}, fixture_json("reddit", "access_token_invalid_grant.json")

    def authed(self, handler: Any) -> Any:
        def check(seen: Seen) -> Reply:
            if seen.headers.get("authorization") != f"bearer {self.token}":
                return (
                    401,
                    {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
                    (fixture_json("reddit", "error_401.json")),
                )
            status, headers, body = handler(seen)
            return status, {**LIMITS, **headers}, body

        return check

    def new(self, seen: Seen) -> Reply:
        limit = int(seen.arg("limit", "100"))
        names = [p["data"]["name"] for p in self.posts]
        before = seen.arg("before")
        if before:
            newer = self.posts[: names.index(before)]
            page = newer[-limit:]
        else:
            page = self.posts[:limit]
        return (
            200,
            {},
            {"kind": "Listing", "data": {"after": None, "before": None, "children": page}},
        )

    def search(self, seen: Seen) -> Reply:
        return 200, {}, fixture_json("reddit", "search.json")

    def mentions(self, seen: Seen) -> Reply:
        return 200, {}, fixture_json("reddit", "message_mentions.json")

    def comment(self, seen: Seen) -> Reply:
        return 200, {}, fixture_json("reddit", "api_comment.json")

    def submit(self, seen: Seen) -> Reply:
        if seen.form().get("sr") != ["AcmeAir"]:
            return 200, {}, fixture_json("reddit", "api_submit_error.json")
        return 200, {}, fixture_json("reddit", "api_submit.json")


@pytest.fixture
def reddit(fake: FakeServer) -> FakeReddit:
    return FakeReddit(fake)


def settings(fake: FakeServer, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": "app-client-id",
        "client_secret": "app-secret-value",
        "username": "AcmeAirSupport",
        "password": "hunter2-hunter2",
        "oauth_url": fake.url,
        "reddit_url": fake.url,
        **extra,
    }


@pytest.fixture
def account(org: Any, fake: FakeServer, reddit: FakeReddit) -> Channel:
    return create_channel(org, name="Reddit", kind="reddit", settings=settings(fake))


def test_it_pages_a_subreddit_and_resumes_from_the_cursor(
    org: Any, fake: FakeServer, reddit: FakeReddit
) -> None:
    channel = create_channel(
        org,
        name="r/flights",
        kind="reddit",
        settings=settings(fake, mentions=False, subreddits=["r/flights"], page_size=2),
    )
    everything, reddit.posts = reddit.posts, reddit.posts[2:]
    first = run_channel(channel, policy=FAST)
    channel.refresh_from_db()
    assert (first.stored, channel.cursor["r:flights"]) == (1, "t3_1gx8y07")

    reddit.posts = everything
    second = run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert (second.pages, second.stored) == (2, 2)
    assert [s.arg("before") for s in fake.requests_to("/r/flights/new")] == [
        "",
        "t3_1gx8y07",
        "t3_1gx9a2k",
    ]
    refund = Message.objects.get(external_id="t3_1gx9a2k")
    assert refund.text.startswith("Acme Air cancelled my flight and offered a voucher")
    assert refund.author_handle == "u/wanderlust_kat"
    assert refund.url.startswith("https://www.reddit.com/r/flights/comments/1gx9a2k/")


def test_it_searches_with_the_compiled_listening_query(
    org: Any, fake: FakeServer, reddit: FakeReddit
) -> None:
    save_listening_query(org, "brand", brands=["Acme Air"], exclusions=["hiring"])
    channel = create_channel(
        org, name="Search", kind="reddit", settings=settings(fake, mentions=False)
    )

    run = run_channel(channel, policy=FAST)

    assert (run.error, run.stored) == ("", 1)
    search = fake.requests_to("/search")[0]
    assert (search.arg("q"), search.arg("sort")) == ('"Acme Air" NOT hiring', "new")


def test_it_replies_to_a_mention(account: Channel, fake: FakeServer) -> None:
    run_channel(account, policy=FAST)
    mention = Message.objects.get(external_id="t1_lq2w9zz")
    assert mention.in_reply_to_external_id == "t3_1gx9a2k"

    name = send_reply(account, reply_for(mention, "Sorry Kat, DM us the booking."))

    assert name == "t1_lq3aa01"
    form = fake.requests_to("/api/comment")[0].form()
    assert (form["thing_id"], form["text"]) == (["t1_lq2w9zz"], ["Sorry Kat, DM us the booking."])


def test_it_refuses_to_reply_to_something_that_is_not_a_fullname(fake: FakeServer) -> None:
    connector = build_connector("reddit", settings(fake), policy=FAST)

    with pytest.raises(Exception, match="fullname"):
        connector.send(OutgoingReply(text="hi", in_reply_to="../../api/delete"))


def test_a_wrong_password_is_an_auth_error(org: Any, fake: FakeServer, reddit: FakeReddit) -> None:
    channel = create_channel(
        org, name="Wrong", kind="reddit", settings=settings(fake, password="changed-since")
    )

    run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert channel.last_error.startswith("credentials refused: Reddit refused the credentials")
    assert "invalid_grant" in channel.last_error


def test_an_expired_token_is_an_auth_error(fake: FakeServer, reddit: FakeReddit) -> None:
    reddit.token = "rotated-elsewhere"

    with pytest.raises(AuthError, match="HTTP 401"):
        build_connector("reddit", settings(fake), policy=FAST).fetch(None)


def test_a_rate_limit_pauses_until_its_reset(fake: FakeServer, reddit: FakeReddit) -> None:
    fake.reply(
        "GET",
        "/message/mentions",
        429,
        fixture_json("reddit", "error_429.json"),
        **{"x-ratelimit-remaining": "0", "x-ratelimit-used": "1000", "x-ratelimit-reset": "540"},
    )

    with pytest.raises(RateLimitedError) as caught:
        build_connector("reddit", settings(fake), policy=FAST).fetch(None)
    assert caught.value.until.timestamp() > 500


def test_a_malformed_listing_is_a_payload_error(fake: FakeServer, reddit: FakeReddit) -> None:
    broken = fixture_json("reddit", "message_mentions.json")
    del broken["data"]["children"][0]["data"]["created_utc"]
    fake.reply("GET", "/message/mentions", 200, broken, **LIMITS)

    with pytest.raises(PayloadError, match="Reddit's format"):
        build_connector("reddit", settings(fake), policy=FAST).fetch(None)


def test_check_names_the_account(fake: FakeServer, reddit: FakeReddit) -> None:
    assert build_connector("reddit", settings(fake), policy=FAST).check() == (
        "logged in as u/AcmeAirSupport"
    )


def test_a_brand_post_is_submitted_to_its_subreddit_title_first(
    org: Any, fake: FakeServer, reddit: FakeReddit
) -> None:
    connector = build_connector("reddit", settings(fake, post_subreddit="AcmeAir"), policy=FAST)

    name = connector.send(
        OutgoingReply(text="Our new Porto lounge opens Monday\nWhat would you like there?")
    )

    assert name == "t3_1h2k9zq"
    form = fake.requests_to("/api/submit")[0].form()
    assert (form["sr"], form["kind"], form["title"], form["text"]) == (
        ["AcmeAir"],
        ["self"],
        ["Our new Porto lounge opens Monday"],
        ["What would you like there?"],
    )


def test_a_brand_post_needs_a_subreddit_that_takes_it(fake: FakeServer, reddit: FakeReddit) -> None:
    with pytest.raises(ConnectorError, match="post_subreddit"):
        build_connector("reddit", settings(fake), policy=FAST).send(OutgoingReply(text="Hi"))
    elsewhere = build_connector("reddit", settings(fake, post_subreddit="flights"), policy=FAST)
    with pytest.raises(ConnectorError, match="SUBREDDIT_NOTALLOWED"):
        elsewhere.send(OutgoingReply(text="Hi"))
    assert len(fake.requests_to("/api/submit")) == 1
