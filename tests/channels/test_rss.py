"""RSS / Atom: paging, conditional GET, resume, and the standard errors, against a local feed."""

from __future__ import annotations

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
from earful.channels.scheduler import run_channel
from earful.channels.services import create_channel
from earful.conversations.models import Message
from tests.channels.fakes import FAST, FakeServer, Seen, fixture_text

ATOM = "application/atom+xml"


def serve_paged_feed(fake: FakeServer) -> None:
    def feed(seen: Seen) -> tuple[int, dict[str, str], str]:
        if seen.arg("page") == "2":
            return 200, {"Content-Type": ATOM}, fixture_text("rss", "atom_page2.xml")
        if seen.headers.get("if-none-match") == '"v1"':
            return 304, {}, ""
        return 200, {"Content-Type": ATOM, "ETag": '"v1"'}, fixture_text("rss", "atom_page1.xml")

    fake.route("GET", "/reviews/airlines.atom", feed)


def rss_channel(org: Any, fake: FakeServer, path: str = "/reviews/airlines.atom") -> Channel:
    return create_channel(
        org, name="Reviews", kind="rss", settings={"url": fake.url + path}, mode="listen"
    )


def test_it_walks_the_pages_and_stores_every_entry(org: Any, fake: FakeServer) -> None:
    serve_paged_feed(fake)
    channel = rss_channel(org, fake)

    run = run_channel(channel, policy=FAST)

    assert (run.pages, run.stored, run.error) == (2, 3, "")
    texts = list(
        Message.objects.filter(channel=channel)
        .order_by("created_at")
        .values_list("text", flat=True)
    )
    assert texts[-1].startswith("Three hours on the tarmac\n\nFlew Acme Air from Lisbon.")
    assert "alert" not in texts[-1]
    assert "Rival Rail was on time" in texts[0]


def test_it_resumes_with_a_conditional_get(org: Any, fake: FakeServer) -> None:
    serve_paged_feed(fake)
    channel = rss_channel(org, fake)
    run_channel(channel, policy=FAST)
    channel.refresh_from_db()
    assert channel.cursor["etag"] == '"v1"'

    again = run_channel(channel, policy=FAST)

    assert (again.pages, again.stored) == (1, 0)
    assert fake.requests_to("/reviews/airlines.atom")[-1].headers["if-none-match"] == '"v1"'
    assert Message.objects.filter(channel=channel).count() == 3


def test_it_stops_paging_at_an_entry_it_already_holds(org: Any, fake: FakeServer) -> None:
    fake.reply("GET", "/feed", 200, fixture_text("rss", "atom_page1.xml"), **{"Content-Type": ATOM})
    connector = build_connector("rss", {"url": fake.url + "/feed"}, policy=FAST)
    first = connector.fetch(None)
    assert first.more

    second = connector.fetch({"seen": first.cursor["seen"]})

    assert (second.records, second.more) == ([], False)


def test_it_reads_rss2_and_drops_unsafe_links(fake: FakeServer) -> None:
    fake.reply("GET", "/rss", 200, fixture_text("rss", "rss2.xml"), **{"Content-Type": "text/xml"})
    connector = build_connector("rss", {"url": fake.url + "/rss"}, policy=FAST)

    records = connector.fetch(None).records

    assert [r["external_id"] for r in records] == [
        "forum.flyers.example-topic-4411",
        "forum.flyers.example-topic-4409",
    ]
    assert records[0]["author"]["handle"] == "lena_k"
    assert records[0]["created_at"] == "2026-11-20T10:12:00+00:00"
    assert records[1]["url"] == ""


def test_it_refuses_to_answer(fake: FakeServer) -> None:
    connector = build_connector("rss", {"url": fake.url + "/rss"}, policy=FAST)

    with pytest.raises(ConnectorError, match="cannot be answered"):
        connector.send(OutgoingReply(text="thanks"))


def test_it_reports_refused_credentials(org: Any, fake: FakeServer) -> None:
    fake.reply("GET", "/private", 401, "token expired", **{"WWW-Authenticate": "Basic"})
    channel = create_channel(
        org,
        name="Private",
        kind="rss",
        settings={"url": fake.url + "/private", "username": "u", "password": "old"},
    )

    run = run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert "credentials refused" in channel.last_error
    assert channel.failures == 1
    assert run.error
    with pytest.raises(AuthError):
        build_connector("rss", channel.settings, policy=FAST).check()


def test_it_pauses_until_the_rate_limit_resets(org: Any, fake: FakeServer) -> None:
    fake.reply("GET", "/busy", 429, "slow down", **{"Retry-After": "3600"})
    channel = rss_channel(org, fake, "/busy")

    run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert channel.last_error.startswith("rate limited")
    assert channel.failures == 0
    assert channel.next_fetch_at is not None
    assert channel.last_fetch_at is not None
    assert (channel.next_fetch_at - channel.last_fetch_at).total_seconds() > 3000
    with pytest.raises(RateLimitedError):
        build_connector("rss", channel.settings, policy=FAST).fetch(None)


def test_it_rejects_a_page_that_is_not_a_feed(fake: FakeServer) -> None:
    fake.reply("GET", "/broken", 200, fixture_text("rss", "not_a_feed.html"))
    connector = build_connector("rss", {"url": fake.url + "/broken"}, policy=FAST)

    with pytest.raises(PayloadError, match="not valid RSS or Atom"):
        connector.fetch(None)


def test_it_retries_a_server_error(fake: FakeServer) -> None:
    answers = iter([(503, {}, "down"), (200, {}, fixture_text("rss", "rss2.xml"))])
    fake.route("GET", "/flaky", lambda _: next(answers))
    connector = build_connector("rss", {"url": fake.url + "/flaky"}, policy=FAST)

    assert len(connector.fetch(None).records) == 2
    assert len(fake.requests_to("/flaky")) == 2


def test_check_names_the_feed(fake: FakeServer) -> None:
    fake.reply("GET", "/rss", 200, fixture_text("rss", "rss2.xml"))
    connector = build_connector("rss", {"url": fake.url + "/rss"}, policy=FAST)

    assert connector.check() == "feed 'Frequent Flyer Forum - Acme Air' answers with 2 entries"
