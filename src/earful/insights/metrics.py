"""The dashboard's metrics, each aggregated in the database (definitions in docs/metrics.md).

Every function takes a Window and returns a Table. Counts are GROUP BY queries on indexed
columns (Message (organization, created_at), Conversation (organization, ...), foreign
keys); durations go through `sql.percentiles_by_group`, so nothing is read row by row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q

from earful.channels.models import Channel
from earful.conversations.models import Conversation, Direction, Message, Origin, Status
from earful.inbox.models import SlaClock, SlaMetric
from earful.insights.sql import UtcDay, percentiles_by_group, seconds_between
from earful.insights.tables import Chart, Table, Window, minutes, percent
from earful.org.models import Department

SENTIMENTS = ("negative", "neutral", "positive")
CLOSED = (Status.RESOLVED, Status.MERGED)
# (label, lower bound in hours, upper bound in hours or None)
AGE_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("under 1 h", 0, 1),
    ("1-4 h", 1, 4),
    ("4-24 h", 4, 24),
    ("1-3 days", 24, 72),
    ("3-7 days", 72, 168),
    ("over 7 days", 168, None),
)
BREAKDOWNS = ("channel", "department", "agent")
UNATTRIBUTED = "(nobody)"


def inbound(window: Window) -> Any:
    """The customers' messages in the window (and channel)."""
    messages = Message.objects.filter(
        organization=window.organization,
        direction=Direction.IN,
        created_at__gte=window.start,
        created_at__lt=window.end,
    )
    return messages.filter(channel=window.channel) if window.channel else messages


def customer_conversations(window: Window) -> Any:
    """Conversations a customer started in the window (not merged away, not our own posts)."""
    conversations = Conversation.objects.filter(
        organization=window.organization,
        started_at__gte=window.start,
        started_at__lt=window.end,
        origin__in=(Origin.INBOUND, Origin.LISTENING),
    ).exclude(status=Status.MERGED)
    return conversations.filter(channels=window.channel) if window.channel else conversations


def _channel_names(window: Window) -> dict[int, str]:
    return dict(Channel.objects.filter(organization=window.organization).values_list("pk", "name"))


def _per_day(window: Window, column: str) -> dict[str, dict[Any, int]]:
    """Customer messages per UTC day and value of one column: {day: {value: count}}."""
    counts: dict[str, dict[Any, int]] = {}
    rows = (
        inbound(window)
        .annotate(day=UtcDay("created_at"))
        .values_list("day", column)
        .annotate(n=Count("id"))
    )
    for day, value, n in rows:
        counts.setdefault(str(day), {})[value] = n
    return counts


def volume(window: Window) -> Table:
    """Customer messages per day and channel."""
    return volume_table(_channel_names(window), _per_day(window, "channel_id"))


def volume_table(names: dict[int, str], per_day: dict[str, dict[Any, int]]) -> Table:
    """The volume table from counts per day and channel id."""
    counts = {
        day: {names[channel]: n for channel, n in per.items()} for day, per in per_day.items()
    }
    channels = tuple(sorted({name for day in counts.values() for name in day}))
    table_rows: list[list[Any]] = [
        [day, *(counts[day].get(name, 0) for name in channels), sum(counts[day].values())]
        for day in sorted(counts)
    ]
    return Table(
        "volume",
        "Customer messages per day, by channel",
        ("day", *channels, "total"),
        table_rows,
        chart=Chart("stack", channels, "messages"),
    )


def sentiment(window: Window) -> Table:
    """Customer messages per day by sentiment, and the negative share."""
    return sentiment_table(_per_day(window, "sentiment"))


def sentiment_table(counts: dict[str, dict[Any, int]]) -> Table:
    """The sentiment table from counts per day and label."""
    table_rows: list[list[Any]] = []
    for day in sorted(counts):
        labeled = [counts[day].get(s, 0) for s in SENTIMENTS]
        table_rows.append([day, *labeled, percent(counts[day].get("negative", 0), sum(labeled))])
    return Table(
        "sentiment",
        "Sentiment of customer messages per day",
        ("day", *SENTIMENTS, "negative %"),
        table_rows,
        chart=Chart("line", SENTIMENTS, "messages"),
    )


def topics(window: Window) -> Table:
    """Customer messages per topic, with how many were negative."""
    rows = (
        inbound(window)
        .values("topic")
        .annotate(n=Count("id"), negative=Count("id", filter=Q(sentiment="negative")))
        .order_by("-n", "topic")
    )
    return topics_table([(row["topic"], row["n"], row["negative"]) for row in rows])


def topics_table(rows: list[tuple[str, int, int]]) -> Table:
    """The topics table from (topic, messages, negative) rows, busiest first."""
    return Table(
        "topics",
        "Topics: volume and sentiment",
        ("topic", "messages", "negative", "negative %"),
        [[topic or "(none)", n, negative, percent(negative, n)] for topic, n, negative in rows],
        chart=Chart("bar", ("messages", "negative"), "messages"),
    )


def response_rate(window: Window) -> Table:
    """Of conversations customers started, the share we answered, overall and per channel."""
    conversations = customer_conversations(window)
    answered = Q(first_response_at__isnull=False)
    total = conversations.aggregate(n=Count("id"), answered=Count("id", filter=answered))
    per_channel = (
        conversations.values("channels__name")
        .annotate(
            n=Count("id", distinct=True), answered=Count("id", filter=answered, distinct=True)
        )
        .order_by("channels__name")
    )
    return response_rate_table(
        (total["n"], total["answered"]),
        [(row["channels__name"], row["n"], row["answered"]) for row in per_channel],
    )


def response_rate_table(
    total: tuple[int, int], per_channel: list[tuple[str | None, int, int]]
) -> Table:
    """The response-rate table from (started, answered) overall and per channel name."""
    rows: list[list[Any]] = [["all channels", total[0], total[1], percent(total[1], total[0])]]
    rows += [
        [name or "(none)", n, answered, percent(answered, n)] for name, n, answered in per_channel
    ]
    return Table(
        "response-rate",
        "Response rate: conversations customers started that we answered",
        ("channel", "conversations", "answered", "response rate %"),
        rows,
        chart=Chart("bar", ("response rate %",), "%"),
    )


def _group_sql(by: str, conversation: str, message: str) -> tuple[str, str]:
    """The group column and the joins that name it, for one breakdown."""
    if by == "channel":
        return "ch.name", f"JOIN {Channel._meta.db_table} ch ON ch.id = {message}.channel_id"
    if by == "department":
        return (
            "d.name",
            f"LEFT JOIN {Department._meta.db_table} d ON d.id = {conversation}.department_id",
        )
    return "u.email", ""


def _spread_table(slug: str, title: str, by: str, spreads: dict[str, Any], note: str) -> Table:
    rows: list[list[Any]] = [
        [name or UNATTRIBUTED, spread.count, minutes(spread.median), minutes(spread.p90)]
        for name, spread in sorted(spreads.items(), key=lambda item: (item[0] != "", item[0]))
    ]
    return Table(
        f"{slug}-by-{by}",
        f"{title} by {by}",
        (by, "count", "median min", "p90 min"),
        rows,
        chart=Chart("bar", ("median min", "p90 min"), "minutes"),
        note=note,
    )


def _channel_clause(window: Window, column: str) -> tuple[str, list[Any]]:
    return (f" AND {column} = %s", [window.channel.pk]) if window.channel else ("", [])


def reply_time(window: Window, by: str = "channel") -> Table:
    """Each reply of ours that answers a customer message: time from that message to it."""
    user_table = Message._meta.get_field("sent_by").related_model._meta.db_table
    group, join = _group_sql(by, "c", "r")
    if by == "agent":
        join = f"LEFT JOIN {user_table} u ON u.id = r.sent_by_id"
    extra, params = _channel_clause(window, "r.channel_id")
    source = f"""
        SELECT {group} AS grp, {seconds_between("r.created_at", "p.created_at")} AS secs
        FROM {Message._meta.db_table} r
        JOIN {Message._meta.db_table} p ON p.id = r.parent_id AND p.direction = 'in'
        LEFT JOIN {Conversation._meta.db_table} c ON c.id = r.conversation_id
        {join}
        WHERE r.organization_id = %s AND r.direction = 'out'
          AND r.created_at >= %s AND r.created_at < %s{extra}
    """  # noqa: S608 - our own table names; values are parameters
    if by == "channel":
        # One pass gives each channel and everyone: every row counts twice, once as ''.
        source = f"WITH source AS ({source}) SELECT grp, secs FROM source "  # noqa: S608
        source += "UNION ALL SELECT '' AS grp, secs FROM source"
    return reply_time_table(
        by,
        percentiles_by_group(source, [window.organization.pk, window.start, window.end, *params]),
    )


def reply_time_table(by: str, spreads: dict[str, Any]) -> Table:
    """The reply-time table from spreads per group ('' is everyone when `by` is channel)."""
    total = spreads.pop("", None) if by == "channel" else None
    table = _spread_table(
        "reply-time",
        "Response time (each reply to a customer message)",
        by,
        spreads,
        "Measured on reply links: our reply minus the customer message it answers.",
    )
    if total is not None:
        table.rows.insert(0, ["everyone", total.count, minutes(total.median), minutes(total.p90)])
    return table


def first_response_time(window: Window, by: str = "channel") -> Table:
    """Conversations customers started: from their first message to our first reply."""
    user_table = Conversation._meta.get_field("assignee").related_model._meta.db_table
    if by == "channel":
        group = "ch.name"
        join = (
            f"JOIN {Conversation.channels.through._meta.db_table} cc ON cc.conversation_id = c.id "
            f"JOIN {Channel._meta.db_table} ch ON ch.id = cc.channel_id"
        )
    elif by == "department":
        group, join = _group_sql(by, "c", "c")
    else:
        group, join = "u.email", f"LEFT JOIN {user_table} u ON u.id = c.assignee_id"
    channel_filter = ""
    params: list[Any] = [window.organization.pk, window.start, window.end]
    if window.channel:
        channel_filter = (
            f" AND c.id IN (SELECT conversation_id FROM "  # noqa: S608 - our table name
            f"{Conversation.channels.through._meta.db_table} WHERE channel_id = %s)"
        )
        params.append(window.channel.pk)
    source = f"""
        SELECT {group} AS grp, {seconds_between("c.first_response_at", "c.started_at")} AS secs
        FROM {Conversation._meta.db_table} c {join}
        WHERE c.organization_id = %s AND c.started_at >= %s AND c.started_at < %s
          AND c.first_response_at IS NOT NULL AND c.status <> 'merged'
          AND c.origin IN ('inbound', 'listening'){channel_filter}
    """  # noqa: S608 - our own table names; values are parameters
    return first_response_table(by, percentiles_by_group(source, params))


def first_response_table(by: str, spreads: dict[str, Any]) -> Table:
    """The first-response table from spreads per group."""
    return _spread_table(
        "first-response",
        "First response time",
        by,
        spreads,
        "From the customer's first message in a conversation to our first reply.",
    )


def next_response_time(window: Window, by: str = "channel") -> Table:
    """Later turns: from a customer message that follows one of ours to our next message."""
    user_table = Conversation._meta.get_field("assignee").related_model._meta.db_table
    group, join = _group_sql(by, "c", "t")
    if by == "agent":
        join = f"LEFT JOIN {user_table} u ON u.id = c.assignee_id"
    extra, params = _channel_clause(window, "m.channel_id")
    source = f"""
        SELECT {group} AS grp, {seconds_between("t.next_out", "t.created_at")} AS secs
        FROM (
            SELECT m.conversation_id, m.channel_id, m.direction, m.created_at,
                   LAG(m.direction) OVER turns AS previous,
                   MIN(CASE WHEN m.direction = 'out' THEN m.created_at END) OVER (
                       PARTITION BY m.conversation_id ORDER BY m.created_at, m.id
                       ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
                   ) AS next_out
            FROM {Message._meta.db_table} m
            WHERE m.organization_id = %s AND m.conversation_id IS NOT NULL
              AND m.created_at >= %s AND m.created_at < %s{extra}
            WINDOW turns AS (PARTITION BY m.conversation_id ORDER BY m.created_at, m.id)
        ) t
        JOIN {Conversation._meta.db_table} c ON c.id = t.conversation_id
        {join}
        WHERE t.direction = 'in' AND t.previous = 'out' AND t.next_out IS NOT NULL
    """  # noqa: S608 - our own table names; values are parameters
    return next_response_table(
        by,
        percentiles_by_group(source, [window.organization.pk, window.start, window.end, *params]),
    )


def next_response_table(by: str, spreads: dict[str, Any]) -> Table:
    """The next-response table from spreads per group."""
    return _spread_table(
        "next-response",
        "Next response time",
        by,
        spreads,
        "After we answered: from the customer's next message to our next reply.",
    )


def sla(window: Window) -> Table:
    """SLA clocks that started in the window and finished: the share met, per target."""
    clocks = SlaClock.objects.filter(
        organization=window.organization, started_at__gte=window.start, started_at__lt=window.end
    )
    if window.channel:
        clocks = clocks.filter(conversation__channels=window.channel)
    finished = Q(stopped_at__isnull=False) | Q(breached_at__isnull=False)
    breached = Q(breached_at__isnull=False)
    rows = (
        clocks.filter(finished)
        .values("metric")
        .annotate(
            n=Count("id", distinct=True), breached=Count("id", filter=breached, distinct=True)
        )
        .order_by("metric")
    )
    return sla_table([(row["metric"], row["n"], row["breached"]) for row in rows])


def sla_table(rows: list[tuple[str, int, int]]) -> Table:
    """The SLA table from (target, finished, breached) rows."""
    labels = dict(SlaMetric.choices)
    return Table(
        "sla",
        "SLA met",
        ("target", "finished", "met", "breached", "met %"),
        [
            [labels.get(metric, metric), n, n - breached, breached, percent(n - breached, n)]
            for metric, n, breached in rows
        ],
        chart=Chart("bar", ("met %",), "%"),
        note="A clock counts as met when it stopped before it was due and never breached.",
    )


def unanswered(window: Window, now: datetime) -> Table:
    """Open conversations waiting on us right now, by how long they have waited."""
    waiting = Conversation.objects.filter(
        organization=window.organization, waiting_since__isnull=False
    ).exclude(status__in=CLOSED)
    if window.channel:
        waiting = waiting.filter(channels=window.channel)
    buckets = {}
    for index, (_, low, high) in enumerate(AGE_BUCKETS):
        condition = Q(waiting_since__lte=now - timedelta(hours=low))
        if high is not None:
            condition &= Q(waiting_since__gt=now - timedelta(hours=high))
        buckets[f"b{index}"] = Count("id", filter=condition, distinct=True)
    counts = waiting.aggregate(**buckets)
    return Table(
        "unanswered",
        "Unanswered: conversations waiting on us, by age",
        ("waiting", "conversations"),
        [[label, counts[f"b{index}"]] for index, (label, _, _) in enumerate(AGE_BUCKETS)],
        chart=Chart("bar", ("conversations",), "conversations"),
    )
