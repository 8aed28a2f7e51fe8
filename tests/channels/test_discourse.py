"""Discourse through pydiscourse against a local forum speaking Discourse's JSON and errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from earful.channels.connector import (
    AuthError,
    ConnectorError,
    OutgoingReply,
    PayloadError,
    build_connector,
)
from earful.channels.http import RateLimitedError
from earful.channels.outgoing import reply_for, send_reply
from earful.channels.scheduler import run_channel
from earful.channels.services import create_channel
from earful.conversations.models import Message, Status
from earful.inbox.workflow import set_status
from earful.org.models import Event
from tests.channels.fakes import FAST, FakeServer, Reply, Seen, fixture_json

API_KEY = "d7f1c0a9b8e24c6f9a3e5b7d1c2f4e6a8b0c9d1e2f3a4b5c6d7e8f9a0b1c2d3e"
PAGE = 3


class FakeDiscourse:
    """/posts.json paged by `before` (newest first), a category's topics, topics, new posts."""

    def __init__(self, server: FakeServer) -> None:
        self.posts = fixture_json("discourse", "latest_posts.json")["latest_posts"]
        self.solved = False
        server.route("GET", "/posts.json", self.authed(self.latest))
        server.route("GET", "/c/5.json", self.authed(self.category))
        server.route("GET", "/t/[a-z0-9-]+/412.json", self.authed(self.topic))
        server.route("GET", "/users/acme_support.json", self.authed(self.user))
        server.route(
            "GET",
            "/site.json",
            self.authed(lambda _: (200, {}, fixture_json("discourse", "site.json"))),
        )
        server.route("POST", "/posts", self.authed(self.create))

    def authed(self, handler: Any) -> Any:
        def check(seen: Seen) -> Reply:
            if (seen.headers.get("api-key"), seen.headers.get("api-username")) != (
                API_KEY,
                "acme_support",
            ):
                return 403, {}, fixture_json("discourse", "error_403.json")
            return handler(seen)

        return check

    def latest(self, seen: Seen) -> Reply:
        before = int(seen.arg("before") or 10**9)
        return 200, {}, {"latest_posts": [p for p in self.posts if p["id"] < before][:PAGE]}

    def category(self, seen: Seen) -> Reply:
        listing = fixture_json("discourse", "category_topics.json")
        for topic in listing["topic_list"]["topics"]:
            topic["has_accepted_answer"] = self.solved and topic["id"] == 412
        return 200, {}, listing

    def topic(self, seen: Seen) -> Reply:
        return 200, {}, fixture_json("discourse", "topic_solved.json")

    def user(self, seen: Seen) -> Reply:
        return 200, {}, fixture_json("discourse", "user.json")

    def create(self, seen: Seen) -> Reply:
        return 200, {}, fixture_json("discourse", "create_post.json")


@pytest.fixture
def forum(fake: FakeServer) -> FakeDiscourse:
    return FakeDiscourse(fake)


def settings(fake: FakeServer, **extra: Any) -> dict[str, Any]:
    return {
        "base_url": fake.url,
        "api_key": API_KEY,
        "api_username": "acme_support",
        "categories": [5],
        **extra,
    }


def test_it_takes_the_newest_page_then_walks_back_to_the_cursor(
    org: Any, fake: FakeServer, forum: FakeDiscourse
) -> None:
    channel = create_channel(org, name="Forum", kind="discourse", settings=settings(fake))

    first = run_channel(channel, policy=FAST)
    channel.refresh_from_db()
    assert (first.pages, first.stored, channel.cursor["since"]) == (1, 2, 1210)

    channel.cursor = {"since": 1200}
    second = run_channel(channel, policy=FAST)
    channel.refresh_from_db()

    befores = [s.arg("before") for s in fake.requests_to("/posts.json")]
    assert befores == ["", "", "1207"]
    assert (second.pages, second.stored, second.duplicates) == (2, 2, 2)
    assert channel.cursor["since"] == 1210
    assert not Message.objects.filter(external_id="415:1").exists()
    assert not Message.objects.filter(external_id="400:1").exists()


def test_categories_may_be_named_by_slug(org: Any, fake: FakeServer, forum: FakeDiscourse) -> None:
    by_slug = settings(fake, categories=[], category_slugs=["support"])
    result = build_connector("discourse", by_slug, policy=FAST).fetch({"since": 1200})

    assert [r["external_id"] for r in result.records] == ["418:1", "412:3"]
    assert len(fake.requests_to("/site.json")) == 1
    unknown = settings(fake, category_slugs=["billing"])
    with pytest.raises(ConnectorError, match="no category 'billing'"):
        build_connector("discourse", unknown, policy=FAST).fetch(None)


def test_posts_keep_text_author_subject_and_thread(
    org: Any, fake: FakeServer, forum: FakeDiscourse
) -> None:
    channel = create_channel(org, name="Forum", kind="discourse", settings=settings(fake))
    channel.cursor = {"since": 1200}
    channel.save()
    run_channel(channel, policy=FAST)

    question = Message.objects.get(external_id="412:1")
    lena = Message.objects.get(external_id="412:2")
    staff = Message.objects.get(external_id="412:3")
    assert lena.text == "Same here on Android 14 — it spins forever."
    assert (lena.in_reply_to_external_id, staff.in_reply_to_external_id) == ("412:1", "412:2")
    assert question.conversation == lena.conversation == staff.conversation
    assert (staff.direction, lena.direction) == ("out", "in")
    assert lena.author_handle == "@lena_h"
    assert lena.url == f"{fake.url}/t/app-stuck-on-login-after-the-4-2-update/412/2"
    assert lena.raw is not None
    assert lena.raw.payload["source"]["subject"] == "App stuck on login after the 4.2 update"


def test_it_replies_in_the_topic_as_the_staff_user(
    org: Any, fake: FakeServer, forum: FakeDiscourse
) -> None:
    channel = create_channel(org, name="Forum", kind="discourse", settings=settings(fake))
    channel.cursor = {"since": 1200}
    channel.save()
    run_channel(channel, policy=FAST)
    lena = Message.objects.get(external_id="412:2")

    new_id = send_reply(channel, reply_for(lena, "Lena, 4.2.1 is out for Android too."))

    forum.posts.insert(0, fixture_json("discourse", "create_post.json"))
    again = run_channel(channel, policy=FAST)

    assert (again.stored, again.error) == (0, "")
    posted = fake.requests_to("/posts")[0]
    assert new_id == "412:4"
    assert posted.headers["api-username"] == "acme_support"
    assert {k: v[0] for k, v in posted.form().items()} == {
        "raw": "Lena, 4.2.1 is out for Android too.",
        "topic_id": "412",
        "reply_to_post_number": "2",
    }


def test_a_solved_topic_resolves_its_conversation_once(
    org: Any, fake: FakeServer, forum: FakeDiscourse
) -> None:
    channel = create_channel(org, name="Forum", kind="discourse", settings=settings(fake))
    channel.cursor = {"since": 1200}
    channel.save()
    run_channel(channel, policy=FAST)
    conversation = Message.objects.get(external_id="412:1").conversation
    assert conversation is not None
    assert conversation.status != Status.RESOLVED

    forum.solved = True
    run_channel(channel, policy=FAST)
    run_channel(channel, policy=FAST)

    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED
    events = Event.objects.filter(verb="conversation.status_changed")
    assert [(e.target_id, e.actor_id, e.after) for e in events] == [
        (str(conversation.code), None, {"status": "resolved", "reason": "solved on Discourse"})
    ]
    assert len(fake.requests_to("/t/app-stuck-on-login-after-the-4-2-update/412.json")) == 1
    other = Message.objects.get(external_id="418:1").conversation
    assert other is not None
    assert other.status != Status.RESOLVED


def test_a_refused_key_is_an_auth_error(org: Any, fake: FakeServer, forum: FakeDiscourse) -> None:
    channel = create_channel(
        org, name="Forum", kind="discourse", settings=settings(fake, api_key="revoked" * 4)
    )

    run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert channel.last_error.startswith(
        "credentials refused: the forum refused the API key (HTTP 403): You are not permitted"
    )


def test_a_rate_limit_pauses_for_wait_seconds(fake: FakeServer) -> None:
    fake.reply("GET", "/posts.json", 429, fixture_json("discourse", "error_429.json"))

    with pytest.raises(RateLimitedError) as caught:
        build_connector("discourse", settings(fake), policy=FAST).fetch(None)

    assert caught.value.until > datetime.now(UTC) + timedelta(seconds=3000)
    assert len(fake.requests_to("/posts.json")) == 1


def test_a_malformed_post_is_a_payload_error(fake: FakeServer, forum: FakeDiscourse) -> None:
    broken = fixture_json("discourse", "latest_posts.json")
    broken["latest_posts"][0]["topic_id"] = "../../etc"
    fake.reply("GET", "/posts.json", 200, broken)

    with pytest.raises(PayloadError, match="Discourse's format"):
        build_connector("discourse", settings(fake), policy=FAST).fetch(None)


def test_an_answer_that_is_not_json_is_a_payload_error(fake: FakeServer) -> None:
    fake.reply("GET", "/posts.json", 200, "<html>maintenance</html>")

    with pytest.raises(PayloadError):
        build_connector("discourse", settings(fake), policy=FAST).fetch(None)


def test_check_names_the_staff_user(fake: FakeServer, forum: FakeDiscourse) -> None:
    assert build_connector("discourse", settings(fake), policy=FAST).check() == (
        f"the key acts as @acme_support (staff) on {fake.url}/"
    )
    with pytest.raises(AuthError):
        build_connector("discourse", settings(fake, api_key="x" * 20), policy=FAST).check()


def test_it_refuses_to_reply_to_a_foreign_id(fake: FakeServer) -> None:
    with pytest.raises(Exception, match="not a Discourse post"):
        build_connector("discourse", settings(fake), policy=FAST).send(
            OutgoingReply(text="hi", in_reply_to="412:../1")
        )


def test_a_topic_solved_again_resolves_again(
    org: Any, fake: FakeServer, forum: FakeDiscourse
) -> None:
    channel = create_channel(org, name="Forum", kind="discourse", settings=settings(fake))
    channel.cursor = {"since": 1200}
    channel.save()
    forum.solved = True
    run_channel(channel, policy=FAST)
    conversation = Message.objects.get(external_id="412:1").conversation
    assert conversation is not None
    set_status(conversation, Status.OPEN, by=None, now=timezone.now())

    forum.solved = False
    run_channel(channel, policy=FAST)
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    forum.solved = True
    run_channel(channel, policy=FAST)

    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED
    events = Event.objects.filter(verb="conversation.status_changed").order_by("id")
    reasons = [e.after["reason"] for e in events]
    assert reasons == ["solved on Discourse", "", "solved on Discourse"]
