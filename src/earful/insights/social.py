"""Whether the business is social: fairness by audience, detractors turned, staff taking part,
hand-offs closed, and how much of what we post is promotion (definitions in docs/metrics.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q

from earful.conversations.models import (
    Conversation,
    Direction,
    Handoff,
    HandoffStatus,
    JoinRule,
    Message,
    Note,
)
from earful.customers.models import Identity
from earful.insights.models import InsightSettings
from earful.insights.promo import promotional_q
from earful.insights.sql import fetch, percentiles_by_group, seconds_between
from earful.insights.tables import Chart, Table, Window, minutes, percent
from earful.org.models import Membership, Organization

# (label, lowest audience, highest audience or None): followers of the author's identity.
AUDIENCE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-100", 0, 100),
    ("100-1k", 100, 1_000),
    ("1k-10k", 1_000, 10_000),
    ("10k-100k", 10_000, 100_000),
    ("100k+", 100_000, None),
)
UNKNOWN_AUDIENCE = "unknown"
# The departments that are the social team itself; everyone else taking part is "beyond" it.
SOCIAL_TEAM = frozenset({"support", "social"})
PROMO_DAYS = 30


def audience_bucket_sql(column: str) -> str:
    """An SQL CASE naming the audience bucket of a follower count column."""
    whens = " ".join(
        f"WHEN {column} >= {low}" + (f" AND {column} < {high}" if high else "") + f" THEN '{label}'"
        for label, low, high in AUDIENCE_BUCKETS
    )
    return f"CASE {whens} ELSE '{UNKNOWN_AUDIENCE}' END"


def fairness(window: Window) -> Table:
    """Response rate and first response time per audience bucket of the customer who started."""
    conversation, message = Conversation._meta.db_table, Message._meta.db_table
    extra, params = (" AND m.channel_id = %s", [window.channel.pk]) if window.channel else ("", [])
    started = f"""
        FROM {message} m
        JOIN {conversation} c ON c.id = m.conversation_id
        LEFT JOIN {Identity._meta.db_table} i ON i.id = m.identity_id
        WHERE m.organization_id = %s AND m.direction = 'in' AND m.join_rule = '{JoinRule.NEW}'
          AND m.created_at >= %s AND m.created_at < %s AND c.status <> 'merged'{extra}
    """
    args = [window.organization.pk, window.start, window.end, *params]
    bucket = audience_bucket_sql("i.audience_size")
    counts = {
        name: (total, answered)
        for name, total, answered in fetch(
            f"SELECT {bucket} AS grp, COUNT(*), COUNT(c.first_response_at) {started} "
            f"GROUP BY {bucket}",
            args,
        )
    }
    spreads = percentiles_by_group(
        f"SELECT {bucket} AS grp, "
        f"{seconds_between('c.first_response_at', 'c.started_at')} AS secs {started}",
        args,
    )
    return fairness_table(counts, spreads)


def fairness_table(counts: dict[str, tuple[int, int]], spreads: dict[str, Any]) -> Table:
    """The fairness table from (conversations, answered) and spreads per audience bucket."""
    rows: list[list[Any]] = []
    for label in [b[0] for b in AUDIENCE_BUCKETS] + [UNKNOWN_AUDIENCE]:
        total, answered = counts.get(label, (0, 0))
        spread = spreads.get(label)
        if label == UNKNOWN_AUDIENCE and not total:
            continue
        rows.append(
            [
                label,
                total,
                answered,
                percent(answered, total),
                minutes(spread.median) if spread else None,
            ]
        )
    rated = [
        (row[3], index)
        for index, row in enumerate(rows)
        if row[3] is not None and row[0] != UNKNOWN_AUDIENCE
    ]
    highlight: frozenset[int] = frozenset()
    note = "Not enough answered conversations to compare audiences."
    if len(rated) >= 2:
        best, worst = max(rated), min(rated)
        highlight = frozenset({best[1], worst[1]})
        note = (
            f"Gap: {best[0] - worst[0]:.1f} points between the best served ({rows[best[1]][0]}) "
            f"and the worst served ({rows[worst[1]][0]}) audience."
        )
    return Table(
        "fairness",
        "Fairness: how customers are served by audience size",
        ("audience", "conversations", "answered", "response rate %", "median first response min"),
        rows,
        chart=Chart("bar", ("response rate %",), "%"),
        note=note,
        highlight=highlight,
    )


def fairness_gap(table: Table) -> float | None:
    """Points between the best- and worst-served audience bucket (None if fewer than two)."""
    rates = [row[3] for row in table.rows if row[0] != UNKNOWN_AUDIENCE and row[3] is not None]
    numbers = [float(rate) for rate in rates if isinstance(rate, int | float)]
    return round(max(numbers) - min(numbers), 1) if len(numbers) >= 2 else None


@dataclass(frozen=True)
class Turnarounds:
    """Detractor to advocate over customers first heard (negative) in the window."""

    engaged_detractors: int
    turned: int
    median_hours: float | None

    @property
    def rate(self) -> float | None:
        """The share of engaged detractors who turned, as a percentage."""
        return percent(self.turned, self.engaged_detractors)


def turnaround(window: Window) -> Turnarounds:
    """Customers whose first labeled message fell in the window and was negative, engaged by
    us, and how many later wrote neutral or positive (customers.story's definition, in SQL)."""
    sql = turnaround_ctes()
    params = [window.organization.pk, window.start, window.end, window.start]
    ((engaged, turned),) = fetch(
        sql + "SELECT (SELECT COUNT(*) FROM engaged), (SELECT COUNT(*) FROM turned)",  # noqa: S608
        params,
    )
    spreads = percentiles_by_group(
        sql + f"SELECT '' AS grp, {seconds_between('tt', 'te')} AS secs FROM turned",  # noqa: S608
        params,
    )
    spread = spreads.get("")
    hours = None if spread is None or spread.median is None else round(spread.median / 3600, 1)
    return Turnarounds(int(engaged), int(turned), hours)


def turnaround_ctes() -> str:
    """The CTEs starts (cid, t0), engaged (cid, te) and turned (cid, te, tt) over customers
    first heard in [%s, %s) (parameters: organization, start, end, start)."""
    message, identity = Message._meta.db_table, Identity._meta.db_table
    conversation = Conversation._meta.db_table
    # Each lookup joins the tables directly (identity by customer, message by identity), so
    # both databases use their indexes; a CTE referenced several times is materialized by
    # PostgreSQL and then scanned once per customer.
    labeled = (
        f"SELECT 1 FROM {identity} i2 JOIN {message} b ON b.identity_id = i2.id "  # noqa: S608
        "WHERE i2.customer_id = {cid} AND b.direction = 'in' AND {condition}"
    )
    return f"""
        WITH firsts AS (
            SELECT i.customer_id AS cid, MIN(m.created_at) AS t0 FROM {message} m
            JOIN {identity} i ON i.id = m.identity_id
            WHERE m.organization_id = %s AND m.direction = 'in' AND m.sentiment <> ''
              AND m.created_at >= %s AND m.created_at < %s
            GROUP BY i.customer_id
        ),
        starts AS (
            SELECT f.cid, f.t0 FROM firsts f
            WHERE EXISTS ({
        labeled.format(cid="f.cid", condition="b.created_at = f.t0 AND b.sentiment = 'negative'")
    })
            AND NOT EXISTS ({
        labeled.format(cid="f.cid", condition="b.sentiment <> '' AND b.created_at < %s")
    })
        ),
        engaged AS (
            SELECT s.cid, MIN(o.created_at) AS te FROM starts s
            JOIN {conversation} c ON c.customer_id = s.cid
            JOIN {message} o ON o.conversation_id = c.id AND o.direction = 'out'
                AND o.created_at >= s.t0
            GROUP BY s.cid
        ),
        turned AS (
            SELECT e.cid, e.te, MIN(l.created_at) AS tt FROM engaged e
            JOIN {identity} i ON i.customer_id = e.cid
            JOIN {message} l ON l.identity_id = i.id AND l.direction = 'in'
                AND l.created_at > e.te AND l.sentiment IN ('neutral', 'positive')
            GROUP BY e.cid, e.te
        )
    """  # noqa: S608 - our own table names; values are parameters


@dataclass(frozen=True)
class Participation:
    """Who took part in answering customers in the window."""

    people: int
    beyond_social_team: int
    handoffs: int
    handoffs_answered: int
    handoff_round_trip: Any
    fixed: int
    reported_back: int


def participation(window: Window) -> Participation:
    """Staff who replied, wrote notes or answered hand-offs, and how hand-offs went."""
    organization, start, end = window.organization, window.start, window.end
    repliers = Message.objects.filter(
        organization=organization,
        direction=Direction.OUT,
        created_at__gte=start,
        created_at__lt=end,
    ).exclude(sent_by=None)
    people = set(repliers.values_list("sent_by", flat=True).distinct())
    people |= set(
        Note.objects.filter(organization=organization, created_at__gte=start, created_at__lt=end)
        .exclude(author=None)
        .values_list("author", flat=True)
        .distinct()
    )
    handoffs = Handoff.objects.filter(
        organization=organization, created_at__gte=start, created_at__lt=end
    ).exclude(status=HandoffStatus.CANCELLED)
    people |= set(
        handoffs.exclude(answered_by=None).values_list("answered_by", flat=True).distinct()
    )
    beyond = beyond_social_team(organization, people)
    done = (HandoffStatus.FIXED, HandoffStatus.REPORTED_BACK)
    counts = handoffs.aggregate(
        n=Count("id"),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
        fixed=Count("id", filter=Q(status__in=done)),
        told=Count("id", filter=Q(status=HandoffStatus.REPORTED_BACK)),
    )
    spreads = percentiles_by_group(
        f"SELECT '' AS grp, {seconds_between('answered_at', 'created_at')} AS secs "  # noqa: S608
        f"FROM {Handoff._meta.db_table} WHERE organization_id = %s AND created_at >= %s "
        "AND created_at < %s AND answered_at IS NOT NULL AND status <> 'cancelled'",
        [organization.pk, start, end],
    )
    return Participation(
        len(people),
        beyond,
        counts["n"],
        counts["answered"],
        spreads.get(""),
        counts["fixed"],
        counts["told"],
    )


def beyond_social_team(organization: Organization, people: set[int]) -> int:
    """How many of these staff belong to a department other than the social team's."""
    return (
        Membership.objects.filter(organization=organization, user__in=people)
        .exclude(department__slug__in=SOCIAL_TEAM)
        .exclude(department=None)
        .count()
    )


def insight_settings(organization: Organization) -> InsightSettings:
    """The organization's insight settings; the defaults when none are stored."""
    stored = InsightSettings.objects.filter(organization=organization).first()
    return stored or InsightSettings(organization=organization)


@dataclass(frozen=True)
class PromoteLast:
    """How much of what we posted ourselves in the last 30 days was promotion."""

    posts: int
    promotional: int
    threshold: float

    @property
    def share(self) -> float | None:
        """Promotional posts as a percentage of our posts."""
        return percent(self.promotional, self.posts)

    @property
    def warning(self) -> bool:
        """Whether promotion is above the organization's threshold."""
        return self.posts > 0 and self.promotional / self.posts > self.threshold


def own_posts(organization: Organization, now: datetime) -> Any:
    """Our outbound posts of the last 30 days that are not replies to anyone."""
    return Message.objects.filter(
        organization=organization,
        direction=Direction.OUT,
        created_at__gte=now - timedelta(days=PROMO_DAYS),
        created_at__lt=now,
        parent__isnull=True,
        in_reply_to_external_id="",
    )


def promote_last(organization: Organization, now: datetime) -> PromoteLast:
    """The share of promotional posts among our own posts in the last 30 days."""
    counts = own_posts(organization, now).aggregate(
        n=Count("id"), promotional=Count("id", filter=promotional_q())
    )
    threshold = insight_settings(organization).promo_threshold
    return PromoteLast(counts["n"], counts["promotional"], threshold)
