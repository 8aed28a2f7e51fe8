"""Each dashboard metric on the hand-computed world of conftest.py (docs/metrics.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from earful.inbox.sla import check_sla
from earful.insights import metrics, social
from earful.insights.tables import Window
from tests.insights.conftest import NOW, T0, World, say


def window(world: World, channel: Any = None) -> Window:
    return Window(world.x.organization, NOW - timedelta(days=30), NOW, channel)


def test_volume_counts_customer_messages_per_day_and_channel(world: World) -> None:
    table = metrics.volume(window(world))
    assert table.columns == ("day", "Forum", "X", "total")
    assert table.rows == [["2026-10-31", 1, 3, 4]]


def test_volume_follows_the_channel_filter(world: World) -> None:
    assert metrics.volume(window(world, world.forum)).rows == [["2026-10-31", 1, 1]]


def test_sentiment_counts_each_label_and_the_negative_share(world: World) -> None:
    assert metrics.sentiment(window(world)).rows == [["2026-10-31", 2, 1, 1, 50.0]]


def test_topics_count_messages_and_negatives(world: World) -> None:
    assert metrics.topics(window(world)).rows == [
        ["(none)", 2, 0, 0.0],
        ["billing", 2, 2, 100.0],
    ]


def test_response_rate_is_answered_over_started_conversations(world: World) -> None:
    assert metrics.response_rate(window(world)).rows == [
        ["all channels", 3, 2, 66.7],
        ["Forum", 1, 0, 0.0],
        ["X", 2, 2, 100.0],
    ]


def test_reply_time_measures_each_reply_from_the_message_it_answers(world: World) -> None:
    # r1 10 min, r2 20 min, r3 30 min: median 20, p90 = 20 + 0.8 * 10 = 28.
    rows = metrics.reply_time(window(world), "channel").rows
    assert rows == [["everyone", 3, 20.0, 28.0], ["X", 3, 20.0, 28.0]]


def test_reply_time_by_agent_puts_unattributed_replies_together(world: World) -> None:
    assert metrics.reply_time(window(world), "agent").rows == [["(nobody)", 3, 20.0, 28.0]]


def test_first_response_time_runs_from_the_first_message_to_our_first_reply(
    world: World,
) -> None:
    # small: 10 min, big: 30 min; mid never answered and is left out.
    assert metrics.first_response_time(window(world), "channel").rows == [["X", 2, 20.0, 28.0]]
    assert metrics.first_response_time(window(world), "department").rows == [
        ["(nobody)", 2, 20.0, 28.0]
    ]


def test_next_response_time_counts_later_turns_only(world: World) -> None:
    # a2 (after our r1) -> r2: 20 minutes; the first turns are not "next".
    assert metrics.next_response_time(window(world), "channel").rows == [["X", 1, 20.0, 20.0]]


def test_sla_met_share_counts_finished_clocks(world: World) -> None:
    check_sla(world.x.organization, NOW)
    # First response due in 60 min: small (10) and big (30) met, mid breached.
    assert metrics.sla(window(world)).rows == [["First response", 3, 2, 1, 66.7]]


def test_unanswered_buckets_waiting_conversations_by_age(world: World) -> None:
    rows = {row[0]: row[1] for row in metrics.unanswered(window(world), NOW).rows}
    assert rows == {
        "under 1 h": 0,
        "1-4 h": 0,
        "4-24 h": 0,
        "1-3 days": 1,
        "3-7 days": 0,
        "over 7 days": 0,
    }


def test_fairness_compares_audience_buckets_and_highlights_the_gap(world: World) -> None:
    table = social.fairness(window(world))
    assert table.rows == [
        ["0-100", 1, 1, 100.0, 10.0],
        ["100-1k", 0, 0, None, None],
        ["1k-10k", 1, 0, 0.0, None],
        ["10k-100k", 0, 0, None, None],
        ["100k+", 1, 1, 100.0, 30.0],
    ]
    assert social.fairness_gap(table) == 100.0
    assert table.highlight == {2, 4}
    assert "100.0 points" in table.note and "(1k-10k)" in table.note


def test_turnaround_counts_engaged_detractors_who_turned(world: World) -> None:
    # small started negative (a1), we engaged at r1 (T0+10), they turned at a2 (T0+60):
    # 50 minutes = 0.8 h. mid started negative but was never engaged.
    outcome = social.turnaround(window(world))
    assert (outcome.engaged_detractors, outcome.turned, outcome.rate) == (1, 1, 100.0)
    assert outcome.median_hours == 0.8


def test_turnaround_leaves_out_customers_first_heard_before_the_window(world: World) -> None:
    later = Window(world.x.organization, T0 + timedelta(minutes=30), NOW)
    assert social.turnaround(later).engaged_detractors == 0


def test_promote_last_share_of_our_own_posts(org: Any, channel: Any) -> None:
    for number, text in enumerate(
        (
            "20% off all plans this week, use code SAVE20",
            "Tip: restart the router to pick up the new settings",
            "What should we improve next? Tell us below",
            "Thanks to everyone who came to the meetup",
        )
    ):
        say(channel, f"post-{number}", NOW - timedelta(days=1), text)
    say(channel, "old", NOW - timedelta(days=40), "Black Friday deals on every phone")
    say(channel, "c1", NOW - timedelta(days=1), "help", author="cust")
    say(channel, "reply", NOW - timedelta(hours=20), "Buy now and save", reply_to="c1")
    outcome = social.promote_last(org, NOW)
    assert (outcome.posts, outcome.promotional, outcome.share) == (4, 1, 25.0)
    assert outcome.warning  # 25% is above the default 20%
