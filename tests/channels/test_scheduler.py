"""The scheduler: due channels only, cursor saved per page, backoff, resume after a failure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from django.utils import timezone

from earful.channels.models import Channel
from earful.channels.scheduler import next_due_in, run_channel, run_due_channels
from earful.channels.services import create_channel, save_listening_query, set_channel_enabled
from earful.conversations.models import Message
from earful.org.models import Event
from tests.channels.fakes import FAST, FakeServer, Seen, fixture_text


def paged(fake: FakeServer, *, page2_fails: bool) -> None:
    def feed(seen: Seen) -> tuple[int, dict[str, str], str]:
        if seen.arg("page") == "2":
            if page2_fails:
                return 500, {}, "boom"
            return 200, {}, fixture_text("rss", "atom_page2.xml")
        return 200, {}, fixture_text("rss", "atom_page1.xml")

    fake.route("GET", "/reviews/airlines.atom", feed)


def feed_channel(org: Any, fake: FakeServer) -> Channel:
    return create_channel(
        org, name="Reviews", kind="rss", settings={"url": fake.url + "/reviews/airlines.atom"}
    )


def test_a_failed_page_keeps_the_pages_before_it_and_resumes(org: Any, fake: FakeServer) -> None:
    paged(fake, page2_fails=True)
    channel = feed_channel(org, fake)

    failed = run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert failed.error and failed.stored == 2
    assert channel.cursor["next"].endswith("?page=2")
    assert channel.failures == 1
    assert Event.objects.filter(verb="channel.fetch_failed").count() == 1

    paged(fake, page2_fails=False)
    resumed = run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert (resumed.error, resumed.stored) == ("", 1)
    assert fake.seen[-1].arg("page") == "2"
    assert (channel.failures, channel.last_error) == (0, "")
    assert channel.newest_item_at is not None
    assert Event.objects.filter(verb="channel.recovered").count() == 1


def test_failures_back_off_exponentially(org: Any, fake: FakeServer) -> None:
    fake.reply("GET", "/reviews/airlines.atom", 500, "down")
    channel = feed_channel(org, fake)
    waits = []
    for _ in range(3):
        run_channel(channel, policy=FAST)
        channel.refresh_from_db()
        assert channel.next_fetch_at and channel.last_fetch_at
        waits.append((channel.next_fetch_at - channel.last_fetch_at).total_seconds())

    assert waits == [600, 1200, 2400]
    # One event per distinct error, not one per retry.
    assert Event.objects.filter(verb="channel.fetch_failed").count() == 1


def test_it_runs_only_due_enabled_channels(org: Any, fake: FakeServer) -> None:
    paged(fake, page2_fails=False)
    channel = feed_channel(org, fake)
    paused = create_channel(
        org, name="Paused", kind="rss", settings={"url": fake.url + "/reviews/airlines.atom"}
    )
    set_channel_enabled(paused, False)
    create_channel(org, name="Hook", kind="webhook", settings={"secret": "x" * 40})

    runs = run_due_channels(policy=FAST)

    assert [r.channel for r in runs] == ["Reviews"]
    assert run_due_channels(policy=FAST) == []
    channel.refresh_from_db()
    assert next_due_in() > 200
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert [r.channel for r in run_due_channels(policy=FAST)] == ["Reviews"]


def test_a_feed_is_filtered_by_the_listening_queries(org: Any, fake: FakeServer) -> None:
    paged(fake, page2_fails=False)
    channel = feed_channel(org, fake)
    save_listening_query(org, "brand", brands=["Acme Air"])

    run = run_channel(channel, policy=FAST)

    assert (run.stored, run.not_heard) == (2, 1)
    assert not Message.objects.filter(text__contains="Rival Rail").exists()


def test_bad_settings_are_reported_on_the_channel(org: Any) -> None:
    channel = Channel.objects.create(organization=org, name="Broken", kind="rss", settings={})

    run = run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert "url Field required" in run.error
    assert "invalid rss settings" in channel.last_error
