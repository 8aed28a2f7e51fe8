"""Chosen ranges read from daily rollups give the live computation's numbers.

Each case builds real rows, rolls the days up the way the tick does, and compares every
table and the scorecard read from the rollups with the live queries over the same window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from earful.conversations.models import Conversation, Message
from earful.inbox.sla import check_sla
from earful.insights import dashboard as boards
from earful.insights import metrics, rollups, snapshots, social
from earful.insights.dashboard import TABLES
from earful.insights.models import DayRollup, RolledDay, RollupCheck
from earful.insights.scorecard import scorecard
from earful.insights.sql import Spread, fetch
from earful.insights.tables import Window
from earful.insights.tick import insights_tick
from earful.org.models import Department
from tests.insights.conftest import NOW, T0, World, say

# A whole-day range holding the world, rolled up to yesterday of a "now" two days later.
START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 3, tzinfo=UTC)
LATER = NOW + timedelta(days=2)


def _live_and_rolled(window: Window) -> None:
    """Every table and the scorecard: rollups equal the live queries."""
    reader = rollups.reader(window, exact_below=0)
    assert reader is not None
    for name, build in rollups.TABLES.items():
        assert build(reader).rows == TABLES[name](window, LATER).rows, name
    assert reader.participation() == social.participation(window)
    assert reader.turnaround() == social.turnaround(window)


def _scorecard_live(window: Window) -> list[Any]:
    saved = list(RolledDay.objects.all())
    RolledDay.objects.all().delete()
    try:
        return scorecard(window, LATER)
    finally:
        RolledDay.objects.bulk_create(saved)


def test_rolled_ranges_match_the_live_numbers(world: World) -> None:
    organization = world.x.organization
    check_sla(organization, NOW)
    done = rollups.roll(organization, LATER)
    assert done.days >= 1 and DayRollup.objects.filter(organization=organization).exists()
    whole = Window(organization, START, END)
    _live_and_rolled(whole)
    _live_and_rolled(Window(organization, START, END, world.x))
    _live_and_rolled(Window(organization, START, END, world.forum))
    # A range that starts inside the world leaves out turns begun before it.
    _live_and_rolled(Window(organization, datetime(2026, 11, 1, tzinfo=UTC), END))
    assert rollups.TABLES["sla"](rollups.reader(whole, exact_below=0)).rows == [  # type: ignore[arg-type]
        ["First response", 3, 2, 1, 66.7]
    ]
    assert scorecard(whole, LATER) == _scorecard_live(whole)


def test_the_reader_is_used_only_for_whole_rolled_days(world: World) -> None:
    organization = world.x.organization
    assert rollups.reader(Window(organization, START, END)) is None  # nothing rolled yet
    rollups.roll(organization, LATER)
    assert rollups.reader(Window(organization, START, END)) is not None
    assert rollups.reader(Window(organization, NOW - timedelta(days=30), NOW)) is None


def test_a_late_reply_dirties_its_old_day_and_the_tick_rolls_it_again(world: World) -> None:
    organization = world.x.organization
    rollups.roll(organization, LATER)
    assert rollups.roll(organization, LATER).days == 0  # nothing changed
    window = Window(organization, START, END)
    before = rollups.TABLES["reply-time-by-channel"](rollups.reader(window, exact_below=0))  # type: ignore[arg-type]
    # Our answer to mid's message of T0 arrives late: written on T0's day, imported now.
    say(world.forum, "r-late", T0 + timedelta(minutes=50), "sorry", reply_to="m1")
    again = rollups.roll(organization, LATER)
    assert again.days >= 1
    after = rollups.TABLES["reply-time-by-channel"](rollups.reader(window, exact_below=0))  # type: ignore[arg-type]
    assert after.rows != before.rows
    _live_and_rolled(window)
    _live_and_rolled(Window(organization, START, END, world.forum))


def test_days_not_rolled_yet_are_computed_on_the_fly(world: World) -> None:
    organization = world.x.organization
    say(
        world.x,
        "o1",
        datetime(2026, 10, 20, 9, tzinfo=UTC),
        "hi",
        author="old",
        sentiment="neutral",
    )
    # Rolled as of T0's day: the world's day itself is not rolled, only the days before it.
    rollups.roll(organization, T0)
    window = Window(organization, START, END)
    reader = rollups.reader(window, exact_below=0)
    assert reader is not None and reader.pending
    _live_and_rolled(window)
    _live_and_rolled(Window(organization, START, END, world.x))


def test_the_dashboard_page_for_a_chosen_range_reads_the_rollups(
    world: World, client: Any, owner: Any
) -> None:
    organization = world.x.organization
    rollups.roll(organization, LATER)
    window = Window(organization, START, END)
    tables = boards.dashboard(window, LATER)
    assert [t.rows for t in tables if t.slug == "reply-time-by-channel"] == [
        metrics.reply_time(window, "channel").rows
    ]
    client.force_login(owner)
    page = client.get("/o/acme/insights/?start=2026-10-01&end=2026-11-02").content.decode()
    assert "<td>everyone</td><td>3</td><td>20.0</td>" in page


def test_histogram_percentiles_are_exact_for_bins_of_one_or_two_values() -> None:
    # 10, 20 and 30 min in three bins: median 20, p90 = 20 + 0.8 * 10 = 28 min.
    apart = rollups.Bins()
    for number, secs in enumerate((600.0, 1200.0, 1800.0)):
        apart.add(number, 1, 0, secs, secs)
    assert apart.spread() == Spread(3, 1200.0, 1680.0)
    # One bin holding 10, 20 and 30 s reads them as spread evenly between its bounds.
    together = rollups.Bins()
    together.add(7, 3, 0, 10.0, 30.0)
    assert together.spread() == Spread(3, 20.0, 28.0)


def test_bins_follow_the_values_in_order(org: Any) -> None:
    values = [-5.0, 0.0, 1.9, 2.0, 59.9, 60.0, 599.0, 3599.0, 3600.0, 86399.0, 86400.0, 9e6]
    select = " UNION ALL ".join(f"SELECT CAST({v} AS FLOAT) AS secs" for v in values)
    numbers = [
        row[0]
        for row in fetch(f"SELECT {rollups.bucket_sql('s.secs')} FROM ({select}) s", [])  # noqa: S608
    ]
    assert numbers == sorted(numbers) and numbers[2] == numbers[1] and numbers[3] == numbers[2] + 1
    assert len(set(numbers)) == len(values) - 1


def test_a_reassigned_department_or_a_relabel_rolls_the_old_day_again(
    world: World, org: Any
) -> None:
    organization = world.x.organization
    rollups.roll(organization, LATER)
    window = Window(organization, START, END)
    legal = Department.objects.create(organization=org, name="Counsel", slug="counsel")
    Conversation.objects.filter(pk=world.small.pk).update(department=legal)
    assert rollups.roll(organization, LATER).days >= 1
    departments = rollups.TABLES["reply-time-by-department"](rollups.reader(window, exact_below=0))  # type: ignore[arg-type]
    assert "Counsel" in [row[0] for row in departments.rows]
    _live_and_rolled(window)
    Message.objects.filter(external_id="b1").update(sentiment="negative", topic="delivery")
    assert rollups.roll(organization, LATER).days >= 1
    _live_and_rolled(window)
    _live_and_rolled(Window(organization, START, END, world.x))


def test_a_chosen_scorecard_takes_the_promotion_line_from_a_recent_snapshot(world: World) -> None:
    organization = world.x.organization
    snapshots.refresh(organization, LATER, force=True)
    window = Window(organization, START, END)
    # A post of ours after the snapshot: the 30-day line waits for the next refresh, as the
    # default view's does.
    say(world.x, "promo1", LATER - timedelta(hours=1), "20% off today only, promo code SAVE")
    chosen = snapshots.chosen_scorecard(window, LATER)
    live = scorecard(window, LATER)
    assert chosen[:-1] == live[:-1]
    assert chosen[-1] == snapshots.scorecard_snapshot(organization, LATER)[0][-1] != live[-1]


def test_the_tick_compares_signatures_at_most_every_five_minutes(world: World) -> None:
    organization = world.x.organization
    assert rollups.roll_if_due(organization, LATER).days >= 1
    Message.objects.filter(external_id="b1").update(sentiment="negative")
    soon = LATER + timedelta(minutes=1)
    assert rollups.roll_if_due(organization, soon).days == 0
    assert rollups.roll_if_due(organization, LATER + rollups.CHECK_EVERY * 2).days >= 1
    insights_tick(LATER + rollups.CHECK_EVERY * 4)
    assert RollupCheck.objects.get(organization=organization).checked_at == (
        LATER + rollups.CHECK_EVERY * 4
    )
