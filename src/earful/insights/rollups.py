"""Daily rollups: what a chosen date range adds up instead of reading every message.

The tick writes, per organization and UTC day, the additive parts of every insight table
(`DayRollup` rows): counts per channel and breakdown key, and for durations a histogram
(`bins()`: 2 s wide below a minute up to a day wide beyond a week) whose bins keep their
count, smallest and largest value, so a percentile is exact wherever the ranks it needs sit
in bins of one or two values and otherwise reads the bin's values as evenly spread. A range
is the sum of its rolled days plus the same parts computed on the fly for days not rolled
yet (today).

Which days to roll again: each rolled day keeps a signature (count and hash sum of the
columns the insights read, messages joined to their conversation and author) and the tick
rolls again the days whose signature changed, plus the days the change reaches: every day
of the conversations touched (next response time spans days) and the day each touched
customer was first heard (detractor to advocate is counted on that day).

Definitions are those of metrics.py and social.py (docs/metrics.md); the per-day sources
below are the same queries grouped by day, and test_rollups.py compares both.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from earful.channels.models import Channel
from earful.conversations.models import Conversation, Handoff, HandoffStatus, Message, Note
from earful.customers.models import Identity
from earful.inbox.models import SlaClock
from earful.insights import metrics, social
from earful.insights.models import DayRollup, RolledDay, RollupCheck
from earful.insights.sql import Spread, fetch, seconds_between
from earful.insights.tables import Table, Window
from earful.org.models import Department, Organization

HOUR, DAY = 3600, 86400
ANY = 0  # channel_id of rows counted once whatever the channel
# How often the tick compares the days' signatures: a change to a past day (a late reply, a
# relabel) shows in chosen ranges within this; today is always computed on the fly.
CHECK_EVERY = timedelta(minutes=5)
# A window with fewer customer messages than this gets its durations live: exact, and quick
# at that size. The twcs check (2,188 replies) is one; a 90-day range at 1M is not.
EXACT_BELOW = 10_000
NEW, REPLY, SLA, FAIR, PEOPLE, HANDOFF, TURN, CONV = (
    "in",
    "reply",
    "sla",
    "fair",
    "people",
    "handoff",
    "turn",
    "conv",
)
FIRST, NEXT = "first", "next"

M, C, CC = Message._meta.db_table, Conversation._meta.db_table, Conversation.channels.through
IDENTITY, K, H, N = (
    Identity._meta.db_table,
    SlaClock._meta.db_table,
    Handoff._meta.db_table,
    Note._meta.db_table,
)
R = DayRollup._meta.db_table


def _cc() -> str:
    return str(CC._meta.db_table)


def _day(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"(({column}) AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def _floor(expression: str) -> str:
    # Only called on non-negative values: SQLite's CAST truncates, PostgreSQL's rounds.
    if connection.vendor == "postgresql":
        return f"FLOOR({expression})::bigint"
    return f"CAST({expression} AS INTEGER)"


def _text(column: str) -> str:
    return f"COALESCE(CAST({column} AS TEXT), '')"


def _hash(*columns: str) -> str:
    if connection.vendor == "postgresql":
        return f"hashtext(concat_ws('|', {', '.join(columns)}))"
    return f"earful_hash({', '.join(columns)})"


def row_hash(*values: Any) -> int:
    """SQLite's earful_hash(): a 32-bit hash of a row's values (PostgreSQL has hashtext)."""
    text = "|".join("" if value is None else str(value) for value in values)
    return zlib.crc32(text.encode()) - 2**31


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Give SQLite connections earful_hash(), which the day signatures sum."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("earful_hash", -1, row_hash, deterministic=True)


def bins() -> list[tuple[float, float, int]]:
    """The histogram's bins as (from, width, first bin number), in order: 2 s wide below a
    minute, 10 s below 10 minutes, 30 s below half an hour, 1 min below an hour, 5 min below
    6 hours, 30 min below a day, 3 h below a week, a day beyond."""
    edges: tuple[tuple[int, int], ...] = (
        (0, 2),
        (60, 10),
        (600, 30),
        (1800, 60),
        (HOUR, 300),
        (6 * HOUR, 1800),
        (DAY, 3 * HOUR),
        (7 * DAY, DAY),
    )
    scheme, number = [], 0
    for (start, width), (end, _) in zip(edges, (*edges[1:], (None, 0)), strict=True):
        scheme.append((float(start), float(width), number))
        if end is not None:
            number += int((end - start) // width)
    return scheme


def bucket_sql(secs: str) -> str:
    """The histogram bin of a duration in seconds (numbers grow with the value)."""
    whens = [f"WHEN {secs} IS NULL THEN NULL", f"WHEN {secs} < 0 THEN -1 - {_floor(f'-({secs})')}"]
    scheme = bins()
    for (start, width, number), upper in zip(
        scheme, [*(b[0] for b in scheme[1:]), None], strict=True
    ):
        value = f"{number} + {_floor(f'(({secs}) - {start:g}) / {width:g}')}"
        whens.append(f"WHEN {secs} < {upper:g} THEN {value}" if upper else f"ELSE {value}")
    return f"CASE {' '.join(whens)} END"


def _nothing() -> str:
    """NULL first day and NULL seconds, typed for PostgreSQL."""
    return "CAST(NULL AS DATE) AS fd, CAST(NULL AS FLOAT) AS secs"


# Each source selects (d, ch, grp, sub, fd, secs, part) for days [%s, %s) after the
# organization; rows with the same key are summed into one DayRollup row.
def _sources(org: int, a: datetime, b: datetime) -> list[tuple[str, str, list[Any]]]:
    window = [org, a, b]
    cc = _cc()
    sources: list[tuple[str, str, list[Any]]] = [
        (
            NEW,
            f"SELECT {_day('m.created_at')} AS d, m.channel_id AS ch, m.sentiment AS grp, "  # noqa: S608
            f"m.topic AS sub, {_nothing()}, "
            "CASE WHEN m.sentiment = 'negative' THEN 1 ELSE 0 END AS part "
            f"FROM {M} m WHERE m.organization_id = %s AND m.direction = 'in' "
            "AND m.created_at >= %s AND m.created_at < %s",
            window,
        ),
    ]
    # A conversation's last message is never before its start (conversations.threading), and
    # (organization, last_message_at) is indexed: the bound turns today's scan into a range.
    started = (
        "c.organization_id = %s AND c.started_at >= %s AND c.started_at < %s "
        "AND c.last_message_at >= %s "
        "AND c.origin IN ('inbound', 'listening') AND c.status <> 'merged'"
    )
    answered = "CASE WHEN c.first_response_at IS NOT NULL THEN 1 ELSE 0 END AS part"
    sources.append(
        (
            CONV,
            f"SELECT {_day('c.started_at')} AS d, cc.channel_id AS ch, '' AS grp, '' AS sub, "  # noqa: S608
            f"{_nothing()}, {answered} FROM {C} c "
            f"LEFT JOIN {cc} cc ON cc.conversation_id = c.id WHERE {started} "
            f"UNION ALL SELECT {_day('c.started_at')}, {ANY}, '', '', "
            f"CAST(NULL AS DATE), CAST(NULL AS FLOAT), {answered} FROM {C} c WHERE {started}",
            [org, a, b, a] * 2,
        )
    )
    reply_groups = {
        "channel": "''",
        "department": _text("c.department_id"),
        "agent": _text("r.sent_by_id"),
    }
    for by, group in reply_groups.items():
        sources.append(
            (
                f"{REPLY}:{by}",
                f"SELECT {_day('r.created_at')} AS d, r.channel_id AS ch, {group} AS grp, "  # noqa: S608
                "'' AS sub, CAST(NULL AS DATE) AS fd, "
                f"{seconds_between('r.created_at', 'p.created_at')} AS secs, 0 AS part "
                f"FROM {M} r JOIN {M} p ON p.id = r.parent_id AND p.direction = 'in' "
                f"LEFT JOIN {C} c ON c.id = r.conversation_id "
                "WHERE r.organization_id = %s AND r.direction = 'out' "
                "AND r.created_at >= %s AND r.created_at < %s",
                window,
            )
        )
    first_groups = {
        "channel": (_text("g.channel_id"), f"JOIN {cc} g ON g.conversation_id = c.id"),
        "department": (_text("c.department_id"), ""),
        "agent": (_text("c.assignee_id"), ""),
    }
    secs = seconds_between("c.first_response_at", "c.started_at")
    for by, (group, join) in first_groups.items():
        select = (
            f"SELECT {_day('c.started_at')} AS d, {{ch}} AS ch, {group} AS grp, '' AS sub, "  # noqa: S608
            f"CAST(NULL AS DATE) AS fd, {secs} AS secs, 0 AS part FROM {C} c {join} {{more}} "
            f"WHERE {started} AND c.first_response_at IS NOT NULL"
        )
        sources.append(
            (
                f"{FIRST}:{by}",
                select.format(ch=ANY, more="")
                + " UNION ALL "
                + select.format(ch="f.channel_id", more=f"JOIN {cc} f ON f.conversation_id = c.id"),
                [org, a, b, a] * 2,
            )
        )
    next_groups = {
        "channel": _text("t.channel_id"),
        "department": _text("c.department_id"),
        "agent": _text("c.assignee_id"),
    }
    for by, group in next_groups.items():
        sources.append(
            (
                f"{NEXT}:{by}",
                _turns("m.conversation_id", str(ANY), group)
                + " UNION ALL "
                + _turns("m.conversation_id, m.channel_id", "t.channel_id", group),
                [org, a, b, a, b] * 2,
            )
        )
    finished = (
        "k.organization_id = %s AND k.started_at >= %s AND k.started_at < %s "
        "AND (k.stopped_at IS NOT NULL OR k.breached_at IS NOT NULL)"
    )
    breached = "CASE WHEN k.breached_at IS NOT NULL THEN 1 ELSE 0 END"
    # Clocks start at a customer message (sla.sync_clocks), never after the conversation's
    # last one: the indexed bound finds today's clocks without reading every clock.
    clocked = f"JOIN {C} kc ON kc.id = k.conversation_id AND kc.last_message_at >= %s"
    sources.append(
        (
            SLA,
            f"SELECT {_day('k.started_at')} AS d, {ANY} AS ch, k.metric AS grp, '' AS sub, "  # noqa: S608
            f"{_nothing()}, {breached} AS part FROM {K} k {clocked} WHERE {finished} "
            f"UNION ALL SELECT {_day('k.started_at')}, cc.channel_id, k.metric, '', "
            f"CAST(NULL AS DATE), CAST(NULL AS FLOAT), {breached} FROM {K} k {clocked} "
            f"JOIN {cc} cc ON cc.conversation_id = k.conversation_id WHERE {finished}",
            [a, *window] * 2,
        )
    )
    sources.append(
        (
            FAIR,
            f"SELECT {_day('m.created_at')} AS d, m.channel_id AS ch, "  # noqa: S608
            f"{social.audience_bucket_sql('i.audience_size')} AS grp, '' AS sub, "
            f"CAST(NULL AS DATE) AS fd, {secs} AS secs, 0 AS part FROM {M} m "
            f"JOIN {C} c ON c.id = m.conversation_id "
            f"LEFT JOIN {IDENTITY} i ON i.id = m.identity_id "
            "WHERE m.organization_id = %s AND m.direction = 'in' AND m.join_rule = 'new' "
            "AND m.created_at >= %s AND m.created_at < %s AND c.status <> 'merged'",
            window,
        )
    )
    sources.append(
        (
            PEOPLE,
            f"SELECT {_day('m.created_at')} AS d, {ANY} AS ch, {_text('m.sent_by_id')} AS grp, "  # noqa: S608
            f"'' AS sub, {_nothing()}, 0 AS part FROM {M} m "
            "WHERE m.organization_id = %s AND m.direction = 'out' AND m.sent_by_id IS NOT NULL "
            "AND m.created_at >= %s AND m.created_at < %s "
            f"UNION ALL SELECT {_day('n.created_at')}, {ANY}, {_text('n.author_id')}, '', "
            f"CAST(NULL AS DATE), CAST(NULL AS FLOAT), 0 FROM {N} n "
            "WHERE n.organization_id = %s AND n.author_id IS NOT NULL "
            "AND n.created_at >= %s AND n.created_at < %s "
            f"UNION ALL SELECT {_day('h.created_at')}, {ANY}, {_text('h.answered_by_id')}, '', "
            f"CAST(NULL AS DATE), CAST(NULL AS FLOAT), 0 FROM {H} h "
            "WHERE h.organization_id = %s AND h.answered_by_id IS NOT NULL "
            f"AND h.status <> '{HandoffStatus.CANCELLED}' "
            "AND h.created_at >= %s AND h.created_at < %s",
            window * 3,
        )
    )
    sources.append(
        (
            HANDOFF,
            f"SELECT {_day('h.created_at')} AS d, {ANY} AS ch, h.status AS grp, '' AS sub, "  # noqa: S608
            "CAST(NULL AS DATE) AS fd, "
            f"{seconds_between('h.answered_at', 'h.created_at')} AS secs, 0 AS part "
            f"FROM {H} h WHERE h.organization_id = %s AND h.created_at >= %s "
            f"AND h.created_at < %s AND h.status <> '{HandoffStatus.CANCELLED}'",
            window,
        )
    )
    sources.append(
        (
            TURN,
            social.turnaround_ctes()
            + f"SELECT {_day('s.t0')} AS d, {ANY} AS ch, '' AS grp, '' AS sub, "  # noqa: S608
            f"CAST(NULL AS DATE) AS fd, {seconds_between('t.tt', 't.te')} AS secs, 0 AS part "
            "FROM engaged e JOIN starts s ON s.cid = e.cid LEFT JOIN turned t ON t.cid = e.cid",
            [org, a, b, a],
        )
    )
    return sources


def _turns(partition: str, channel: str, group: str) -> str:
    """Next-response turns answered on days [%s, %s), keyed by the day of the message of ours
    before the turn (a window holds the turn only if it holds both ends). Only conversations
    with a message of ours on those days can have one; they are picked by id alone, so each
    one's messages come off its (conversation, created_at) index."""
    return f"""
        SELECT {_day("t.next_out")} AS d, {channel} AS ch, {group} AS grp, '' AS sub,
               {_day("t.prev_at")} AS fd, {seconds_between("t.next_out", "t.created_at")} AS secs,
               0 AS part
        FROM (
            SELECT m.conversation_id, m.channel_id, m.direction, m.created_at,
                   LAG(m.direction) OVER turns AS previous,
                   LAG(m.created_at) OVER turns AS prev_at,
                   MIN(CASE WHEN m.direction = 'out' THEN m.created_at END) OVER (
                       PARTITION BY {partition} ORDER BY m.created_at, m.id
                       ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
                   ) AS next_out
            FROM {M} m
            WHERE m.conversation_id IN (
                SELECT x.conversation_id FROM {M} x WHERE x.organization_id = %s
                AND x.direction = 'out' AND x.created_at >= %s AND x.created_at < %s
            )
            WINDOW turns AS (PARTITION BY {partition} ORDER BY m.created_at, m.id)
        ) t
        JOIN {C} c ON c.id = t.conversation_id
        WHERE t.direction = 'in' AND t.previous = 'out'
          AND t.next_out >= %s AND t.next_out < %s
    """  # noqa: S608 - our own table names; values are parameters


def _aggregate(source: str) -> str:
    return f"""
        SELECT d, ch, grp, sub, fd, bucket, COUNT(*) AS n, SUM(part) AS part,
               MIN(secs) AS low, MAX(secs) AS high
        FROM (SELECT s.*, {bucket_sql("s.secs")} AS bucket FROM ({source}) s) b
        GROUP BY d, ch, grp, sub, fd, bucket
    """  # noqa: S608 - our own fragments; values are parameters


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as [first, after last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def signatures(organization: Organization) -> dict[date, str]:
    """Per UTC day, a fingerprint of every row the day's rollups read."""
    org = organization.pk
    cc = _cc()
    message_hash = _hash(
        "m.id",
        "m.channel_id",
        "m.direction",
        "m.sentiment",
        "m.topic",
        "m.conversation_id",
        "m.parent_id",
        "m.sent_by_id",
        "m.identity_id",
        "m.join_rule",
        "c.department_id",
        "c.assignee_id",
        "c.customer_id",
        "c.status",
        "c.started_at",
        "c.first_response_at",
        "i.customer_id",
        "i.audience_size",
    )
    conversation_hash = _hash(
        "c.id",
        "c.status",
        "c.origin",
        "c.first_response_at",
        "c.department_id",
        "c.assignee_id",
        "cc.channel_id",
    )
    clock_hash = _hash("k.id", "k.metric", "k.stopped_at", "k.breached_at", "cc.channel_id")
    handoff_hash = _hash("h.id", "h.status", "h.answered_at", "h.answered_by_id")
    queries = {
        "m": (
            f"SELECT {_day('m.created_at')}, COUNT(*), SUM({message_hash}) "  # noqa: S608
            f"FROM {M} m LEFT JOIN {C} c ON c.id = m.conversation_id "
            f"LEFT JOIN {IDENTITY} i ON i.id = m.identity_id "
            "WHERE m.organization_id = %s GROUP BY 1"
        ),
        "c": (
            f"SELECT {_day('c.started_at')}, COUNT(*), SUM({conversation_hash}) "  # noqa: S608
            f"FROM {C} c LEFT JOIN {cc} cc ON cc.conversation_id = c.id "
            "WHERE c.organization_id = %s GROUP BY 1"
        ),
        "k": (
            f"SELECT {_day('k.started_at')}, COUNT(*), SUM({clock_hash}) "  # noqa: S608
            f"FROM {K} k LEFT JOIN {cc} cc ON cc.conversation_id = k.conversation_id "
            "WHERE k.organization_id = %s GROUP BY 1"
        ),
        "h": (
            f"SELECT {_day('h.created_at')}, COUNT(*), SUM({handoff_hash}) "  # noqa: S608
            f"FROM {H} h WHERE h.organization_id = %s GROUP BY 1"
        ),
        "n": (
            f"SELECT {_day('n.created_at')}, COUNT(*), SUM({_hash('n.id', 'n.author_id')}) "  # noqa: S608
            f"FROM {N} n WHERE n.organization_id = %s GROUP BY 1"
        ),
    }
    parts: dict[date, list[str]] = {}
    for name, sql in queries.items():
        for day, count, total in fetch(sql, [org]):
            parts.setdefault(_as_date(day), []).append(f"{name}{count}:{total}")
    return {day: ";".join(values) for day, values in parts.items()}


def _reached(org: int, runs: list[tuple[date, date]]) -> set[date]:
    """Days a change on these days can alter besides themselves: every day of the
    conversations touched, and the day each touched customer was first heard."""
    days: set[date] = set()
    for first, after in runs:
        a, b = _midnight(first), _midnight(after)
        conversations = (
            f"SELECT DISTINCT {_day('m2.created_at')} FROM {M} m2 "  # noqa: S608
            f"WHERE m2.conversation_id IN (SELECT x.conversation_id FROM {M} x "
            "WHERE x.organization_id = %s AND x.created_at >= %s AND x.created_at < %s)"
        )
        customers = (
            f"SELECT {_day('MIN(m.created_at)')} FROM {M} m "  # noqa: S608
            f"JOIN {IDENTITY} i ON i.id = m.identity_id "
            "WHERE m.organization_id = %s AND m.direction = 'in' AND m.sentiment <> '' "
            f"AND i.customer_id IN (SELECT i2.customer_id FROM {M} x "
            f"JOIN {IDENTITY} i2 ON i2.id = x.identity_id WHERE x.organization_id = %s "
            "AND x.created_at >= %s AND x.created_at < %s "
            f"UNION SELECT c.customer_id FROM {M} x JOIN {C} c ON c.id = x.conversation_id "
            "WHERE x.organization_id = %s AND x.created_at >= %s AND x.created_at < %s) "
            "GROUP BY i.customer_id"
        )
        days |= {_as_date(day) for (day,) in fetch(conversations, [org, a, b]) if day}
        days |= {_as_date(day) for (day,) in fetch(customers, [org, org, a, b, org, a, b]) if day}
    return days


@dataclass(frozen=True)
class Rolled:
    """What one roll did: how many days it wrote and in how many runs."""

    days: int
    runs: int


def roll(organization: Organization, now: datetime) -> Rolled:
    """Write the rollups of every day before today whose rows changed since it was rolled."""
    today = now.astimezone(UTC).date()
    current = signatures(organization)
    stored = dict(
        RolledDay.objects.filter(organization=organization).values_list("day", "signature")
    )
    known = set(current) | set(stored)
    if not known:
        return Rolled(0, 0)
    first = min(known)
    every = {first + timedelta(days=n) for n in range((today - first).days)}
    changed = {day for day in every if current.get(day, "") != stored.get(day)}
    if stored and changed:
        touched = {day for day in changed if day in current or day in stored}
        changed |= {day for day in _reached(organization.pk, _runs(touched)) if day < today}
    runs = _runs(changed)
    for run in runs:
        _write(organization, run, current, now)
    return Rolled(len(changed), len(runs))


def roll_if_due(organization: Organization, now: datetime) -> Rolled:
    """The tick's roll: at most every CHECK_EVERY, since comparing every day's signature
    reads all of the organization's messages (seconds at a million)."""
    checked = RollupCheck.objects.filter(organization=organization).first()
    if checked is not None and checked.checked_at > now - CHECK_EVERY:
        return Rolled(0, 0)
    done = roll(organization, now)
    RollupCheck.objects.update_or_create(organization=organization, defaults={"checked_at": now})
    return done


def _write(
    organization: Organization, run: tuple[date, date], current: dict[date, str], now: datetime
) -> None:
    first, after = run
    a, b = _midnight(first), _midnight(after)
    columns = (
        'organization_id, metric, day, channel_id, "key", sub, first_day, bucket, n, part, '
        "low, high"
    )
    with transaction.atomic():
        DayRollup.objects.filter(organization=organization, day__gte=first, day__lt=after).delete()
        for metric, source, params in _sources(organization.pk, a, b):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {R} ({columns}) "  # noqa: S608 - our own names
                    f"SELECT %s, %s, d, ch, grp, sub, fd, bucket, n, part, low, high "
                    f"FROM ({_aggregate(source)}) a",
                    [organization.pk, metric, *params],
                )
        days = [first + timedelta(days=n) for n in range((after - first).days)]
        RolledDay.objects.filter(organization=organization, day__in=days).delete()
        RolledDay.objects.bulk_create(
            [
                RolledDay(
                    organization=organization,
                    day=day,
                    signature=current.get(day, ""),
                    rolled_at=now,
                )
                for day in days
            ]
        )


@dataclass
class Bins:
    """A merged count or histogram: n, part and, per bin, [count, smallest, largest]."""

    n: int = 0
    part: int = 0
    bins: dict[int, list[float]] = field(default_factory=dict)

    def add(self, bucket: int | None, n: int, part: int, low: Any, high: Any) -> None:
        """Add one rollup row (or another histogram's bin)."""
        self.n += n
        self.part += part
        if bucket is None:
            return
        held = self.bins.get(bucket)
        if held is None:
            self.bins[bucket] = [float(n), float(low), float(high)]
        else:
            held[0] += n
            held[1] = min(held[1], float(low))
            held[2] = max(held[2], float(high))

    @property
    def measured(self) -> int:
        """How many durations the bins hold."""
        return int(sum(held[0] for held in self.bins.values()))

    def spread(self) -> Spread | None:
        """Count, median and p90 of the histogram (None when it is empty)."""
        size = self.measured
        if not size:
            return None
        ordered = [held for _, held in sorted(self.bins.items())]
        return Spread(size, _percentile(ordered, size, 0.5), _percentile(ordered, size, 0.9))


def _percentile(ordered: list[list[float]], size: int, p: float) -> float:
    # As sql.percentiles_by_group: interpolate between ranks floor((n-1)p) and the next.
    position = (size - 1) * p
    low = int(position)
    below = _value_at(ordered, low)
    above = _value_at(ordered, min(low + 1, size - 1))
    return below + (position - low) * (above - below)


def _value_at(ordered: list[list[float]], rank: int) -> float:
    """The rank-th smallest value: exact when its bin holds at most two distinct values,
    else spread evenly between the bin's smallest and largest."""
    seen = 0
    for count, smallest, largest in ordered:
        held = int(count)
        if rank < seen + held:
            if held == 1:
                return smallest
            return smallest + (largest - smallest) * (rank - seen) / (held - 1)
        seen += held
    return ordered[-1][2]


def _combine(parts: Iterable[Bins]) -> Bins:
    """Several counts or histograms as one."""
    combined = Bins()
    for bins in parts:
        combined.n += bins.n
        combined.part += bins.part
        for bucket, (count, smallest, largest) in bins.bins.items():
            held = combined.bins.get(bucket)
            if held is None:
                combined.bins[bucket] = [count, smallest, largest]
            else:
                held[0] += count
                held[1] = min(held[1], smallest)
                held[2] = max(held[2], largest)
    return combined


# Which rows of a metric a table reads: an SQL condition on channel_id, and the same test.
Channels = tuple[str, list[Any], Callable[[Any], bool]]
ALL_ROWS: Channels = ("", [], lambda ch: True)
CHANNELS_TOUCHED: Channels = (
    f" AND (channel_id IS NULL OR channel_id <> {ANY})",
    [],
    lambda ch: ch != ANY,
)
COLUMNS = {"day": 0, "channel_id": 1, "key": 2, "sub": 3}


def _only(channel: int) -> Channels:
    return (" AND channel_id = %s", [channel], lambda ch: ch == channel)


class Reader:
    """A whole-day window read from the rollups, days not rolled yet computed on the fly."""

    def __init__(
        self, window: Window, pending: list[tuple[date, date]], exact_below: int = EXACT_BELOW
    ) -> None:
        self.window = window
        self.exact_below = exact_below
        self._quiet: bool | None = None
        self.pending = pending
        self.first = window.start.date()
        self.channel = window.channel.pk if window.channel else None
        self._computed: dict[str, list[tuple[Any, ...]]] = {}

    def _live(self, metric: str) -> list[tuple[Any, ...]]:
        """The metric's rows for the days not rolled yet, computed now."""
        if metric in self._computed:
            return self._computed[metric]
        rows: list[tuple[Any, ...]] = []
        for first, after in self.pending:
            for name, source, params in _sources(
                self.window.organization.pk, _midnight(first), _midnight(after)
            ):
                if name == metric:
                    rows += fetch(_aggregate(source), params)
        self._computed[metric] = rows
        return rows

    def _merge(
        self, metric: str, channels: Channels, keep: tuple[str, ...] = ()
    ) -> dict[tuple[Any, ...], Bins]:
        """The metric's rows over the window summed per value of the `keep` columns (day,
        channel_id, key, sub): the rolled days in the database, the others computed now."""
        where, params, wanted = channels
        kept = ", ".join(f'"{column}"' for column in keep)
        grouped = f"{kept}, bucket" if kept else "bucket"
        stored = fetch(
            f"SELECT {grouped}, SUM(n), SUM(part), MIN(low), MAX(high) FROM {R} "  # noqa: S608
            "WHERE organization_id = %s AND metric = %s AND day >= %s AND day < %s "
            f"AND (first_day IS NULL OR first_day >= %s){where} GROUP BY {grouped}",
            [
                self.window.organization.pk,
                metric,
                self.first,
                self.window.end.date(),
                self.first,
                *params,
            ],
        )
        merged: dict[tuple[Any, ...], Bins] = {}
        width = len(keep)
        for row in stored:
            values = tuple(
                _as_date(v) if c == "day" else v for c, v in zip(keep, row, strict=False)
            )
            bucket, n, part, low, high = row[width:]
            merged.setdefault(values, Bins()).add(
                None if bucket is None else int(bucket), int(n), int(part or 0), low, high
            )
        for d, ch, grp, sub, fd, bucket, n, part, low, high in self._live(metric):
            if (fd is not None and _as_date(fd) < self.first) or not wanted(ch):
                continue
            row = (_as_date(d), ch, grp, sub)
            values = tuple(row[COLUMNS[column]] for column in keep)
            merged.setdefault(values, Bins()).add(
                None if bucket is None else int(bucket), int(n), int(part or 0), low, high
            )
        return merged

    def _own(self) -> Channels:
        """Rows of a metric keyed by the message's own channel."""
        return ALL_ROWS if self.channel is None else _only(self.channel)

    def _any(self) -> Channels:
        """Rows of a metric that also has 'any channel' rows."""
        return _only(ANY if self.channel is None else self.channel)

    def _names(self) -> dict[Any, str]:
        return dict(
            Channel.objects.filter(organization=self.window.organization).values_list("pk", "name")
        )

    def _group_names(self, by: str, keys: Iterable[str]) -> dict[str, str]:
        ids = [int(key) for key in keys if key]
        found: Iterable[tuple[int, str]]
        if by == "channel":
            found = Channel.objects.filter(pk__in=ids).values_list("pk", "name")
        elif by == "department":
            found = Department.objects.filter(pk__in=ids).values_list("pk", "name")
        else:
            found = get_user_model().objects.filter(pk__in=ids).values_list("pk", "email")
        return {str(pk): name or "" for pk, name in found}

    def _spreads(self, merged: dict[str, Bins]) -> dict[str, Any]:
        spreads = {name: bins.spread() for name, bins in merged.items()}
        return {name: spread for name, spread in spreads.items() if spread is not None}

    def volume(self) -> Table:
        """metrics.volume."""
        per_day: dict[str, dict[Any, int]] = {}
        for (day, ch), bins in self._merge(NEW, self._own(), ("day", "channel_id")).items():
            if bins.n:
                per_day.setdefault(str(day), {})[ch] = bins.n
        return metrics.volume_table(self._names(), per_day)

    def sentiment(self) -> Table:
        """metrics.sentiment."""
        counts: dict[str, dict[Any, int]] = {}
        for (day, label), bins in self._merge(NEW, self._own(), ("day", "key")).items():
            if bins.n:
                counts.setdefault(str(day), {})[label] = bins.n
        return metrics.sentiment_table(counts)

    def topics(self) -> Table:
        """metrics.topics."""
        merged = self._merge(NEW, self._own(), ("sub",))
        rows = [(topic, bins.n, bins.part) for (topic,), bins in merged.items() if bins.n]
        return metrics.topics_table(sorted(rows, key=lambda row: (-row[1], row[0])))

    def response_rate(self) -> Table:
        """metrics.response_rate."""
        total = _combine(self._merge(CONV, self._any()).values())
        names = self._names()
        if self.channel is not None:
            rows = [(names.get(self.channel), total.n, total.part)] if total.n else []
        else:
            # Every channel a conversation touched (None: conversations with no channel).
            per_name: dict[str | None, list[Bins]] = {}
            for (ch,), bins in self._merge(CONV, CHANNELS_TOUCHED, ("channel_id",)).items():
                if ch is None or ch in names:
                    per_name.setdefault(None if ch is None else names[ch], []).append(bins)
            merged = {name: _combine(parts) for name, parts in per_name.items()}
            rows = _order_names([(name, bins.n, bins.part) for name, bins in merged.items()])
        return metrics.response_rate_table((total.n, total.part), rows)

    def _small(self) -> bool:
        """A window with few customer messages: its live duration queries are exact and
        quick (they read the window's messages), so no bins are needed."""
        if self._quiet is None:
            self._quiet = _combine(self._merge(NEW, ALL_ROWS).values()).n < self.exact_below
        return self._quiet

    def reply_time(self, by: str) -> Table:
        """metrics.reply_time."""
        if by != "channel":
            merged = self._merge(f"{REPLY}:{by}", self._own(), ("key",))
            if self._small():
                return metrics.reply_time(self.window, by)
            return metrics.reply_time_table(by, self._by_key(merged, by))
        names = self._names()
        per_name: dict[str, list[Bins]] = {}
        for (ch,), bins in self._merge(f"{REPLY}:{by}", self._own(), ("channel_id",)).items():
            per_name.setdefault(names.get(ch, ""), []).append(bins)
        merged_names = {name: _combine(parts) for name, parts in per_name.items()}
        if self._small():
            return metrics.reply_time(self.window, by)
        spreads = self._spreads(merged_names)
        everyone = _combine(merged_names.values()).spread()
        if everyone is not None:
            spreads[""] = everyone
        return metrics.reply_time_table(by, spreads)

    def _by_key(self, merged: dict[tuple[Any, ...], Bins], by: str) -> dict[str, Any]:
        names = self._group_names(by, (key for (key,) in merged))
        renamed: dict[str, list[Bins]] = {}
        for (key,), bins in merged.items():
            renamed.setdefault(names.get(key, ""), []).append(bins)
        return self._spreads({name: _combine(parts) for name, parts in renamed.items()})

    def first_response_time(self, by: str) -> Table:
        """metrics.first_response_time."""
        merged = self._merge(f"{FIRST}:{by}", self._any(), ("key",))
        if self._small():
            return metrics.first_response_time(self.window, by)
        return metrics.first_response_table(by, self._by_key(merged, by))

    def next_response_time(self, by: str) -> Table:
        """metrics.next_response_time."""
        merged = self._merge(f"{NEXT}:{by}", self._any(), ("key",))
        if self._small():
            return metrics.next_response_time(self.window, by)
        return metrics.next_response_table(by, self._by_key(merged, by))

    def sla(self) -> Table:
        """metrics.sla."""
        merged = self._merge(SLA, self._any(), ("key",))
        return metrics.sla_table(
            [(target, bins.n, bins.part) for (target,), bins in sorted(merged.items()) if bins.n]
        )

    def fairness(self) -> Table:
        """social.fairness."""
        merged = {
            label: bins for (label,), bins in self._merge(FAIR, self._own(), ("key",)).items()
        }
        if self._small():
            return social.fairness(self.window)
        counts = {label: (bins.n, bins.measured) for label, bins in merged.items() if bins.n}
        return social.fairness_table(counts, self._spreads(merged))

    def participation(self) -> social.Participation:
        """social.participation."""
        people = {int(key) for (key,) in self._merge(PEOPLE, ALL_ROWS, ("key",)) if key}
        handoffs = {
            status: bins for (status,), bins in self._merge(HANDOFF, ALL_ROWS, ("key",)).items()
        }
        done = (HandoffStatus.FIXED, HandoffStatus.REPORTED_BACK)
        everything = _combine(handoffs.values())
        return social.Participation(
            len(people),
            social.beyond_social_team(self.window.organization, people),
            everything.n,
            everything.measured,
            everything.spread(),
            sum(bins.n for status, bins in handoffs.items() if status in done),
            handoffs.get(HandoffStatus.REPORTED_BACK, Bins()).n,
        )

    def turnaround(self) -> social.Turnarounds:
        """social.turnaround."""
        merged = self._merge(TURN, ALL_ROWS)
        if self._small():
            return social.turnaround(self.window)
        turned = _combine(merged.values())
        spread = turned.spread()
        hours = None if spread is None or spread.median is None else round(spread.median / 3600, 1)
        return social.Turnarounds(turned.n, turned.measured, hours)


def _order_names(rows: list[tuple[str | None, int, int]]) -> list[tuple[str | None, int, int]]:
    # As ORDER BY name: PostgreSQL puts NULL (no channel) last, SQLite first.
    named = sorted((row for row in rows if row[0] is not None), key=lambda row: str(row[0]))
    nameless = [row for row in rows if row[0] is None]
    return named + nameless if connection.vendor == "postgresql" else nameless + named


def reader(window: Window, exact_below: int = EXACT_BELOW) -> Reader | None:
    """A rollup reader for a window of whole UTC days with at least one day rolled (None
    otherwise: the default last-30-days view and small unrolled data are computed live).
    Durations of a window with fewer than `exact_below` customer messages are computed live
    (exact)."""
    midnight = time.min
    start, end = window.start.astimezone(UTC), window.end.astimezone(UTC)
    if (
        start.timetz().replace(tzinfo=None) != midnight
        or end.timetz().replace(tzinfo=None) != midnight
    ):
        return None
    first, after = start.date(), end.date()
    rolled = set(
        RolledDay.objects.filter(
            organization=window.organization, day__gte=first, day__lt=after
        ).values_list("day", flat=True)
    )
    if not rolled:
        return None
    every = (first + timedelta(days=n) for n in range((after - first).days))
    return Reader(window, _runs(day for day in every if day not in rolled), exact_below)


def _breakdown(build: Callable[[Reader, str], Table], by: str) -> Callable[[Reader], Table]:
    return lambda reader: build(reader, by)


TABLES: dict[str, Callable[[Reader], Table]] = {
    "volume": Reader.volume,
    "sentiment": Reader.sentiment,
    "topics": Reader.topics,
    "response-rate": Reader.response_rate,
    **{f"reply-time-by-{by}": _breakdown(Reader.reply_time, by) for by in metrics.BREAKDOWNS},
    **{
        f"first-response-by-{by}": _breakdown(Reader.first_response_time, by)
        for by in metrics.BREAKDOWNS
    },
    **{
        f"next-response-by-{by}": _breakdown(Reader.next_response_time, by)
        for by in metrics.BREAKDOWNS
    },
    "sla": Reader.sla,
    "fairness": Reader.fairness,
}
