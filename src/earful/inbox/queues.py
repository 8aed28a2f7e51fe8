"""The inbox's reads: the queues, their counts, filters, search and sort order.

Every read here stays fast at a million messages: the queues walk an index in their sort
order and stop at the page (no DISTINCT: joins that could repeat a row are EXISTS tests),
counts stop at COUNT_CAP, and search looks only at the newest matches (search.SEARCH_LIMIT).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce

from earful.conversations.models import (
    AGE_ORDER,
    URGENCY_ORDER,
    WITH_DEPARTMENT,
    Conversation,
    Handoff,
    Message,
    Status,
)
from earful.conversations.search import newest_matches
from earful.inbox.models import SlaClock
from earful.org.models import Membership

QUEUES: dict[str, str] = {
    "unassigned": "Unassigned",
    "mine": "Mine",
    "department": "My department",
    "overdue": "Overdue",
    "needs_reply": "Needs reply",
    "all": "All",
}
CLOSED = (Status.RESOLVED, Status.MERGED)
# Named rather than "not closed", so an index on status can be searched for each.
OPEN = tuple(status for status in Status if status not in CLOSED)
MESSAGE_FILTERS = ("sentiment", "intent", "language", "topic")
# Counting stops here: an exact count of hundreds of thousands of rows cannot be fast, and
# nobody works a queue by its exact size past this. Pages show COUNT_CAP + 1 as "1,000+".
COUNT_CAP = 1000


@dataclass(frozen=True)
class Filters:
    """What narrows a queue: message labels, a channel, a start date and a search text."""

    channel: str = ""
    sentiment: str = ""
    intent: str = ""
    language: str = ""
    topic: str = ""
    since: date | None = None
    text: str = ""

    def any(self) -> bool:
        """Whether any filter narrows the queue."""
        return any(
            (self.channel, self.sentiment, self.intent, self.language, self.topic, self.since)
        ) or bool(self.text.strip())


def _queue_q(membership: Membership, queue: str, now: datetime) -> Q:
    open_ = Q(status__in=OPEN)
    if queue == "unassigned":
        return open_ & Q(assignee__isnull=True)
    if queue == "mine":
        return open_ & Q(assignee_id=membership.user_id)
    if queue == "department":
        if membership.department_id is None:
            return Q(pk__in=[])
        waiting_on_us = Exists(
            Handoff.objects.filter(
                conversation=OuterRef("pk"),
                to_department_id=membership.department_id,
                status__in=WITH_DEPARTMENT,
            )
        )
        return open_ & (Q(waiting_on_us) | Q(department_id=membership.department_id))
    if queue == "overdue":
        return open_ & Q(Exists(_overdue_clocks(now).filter(conversation=OuterRef("pk"))))
    if queue == "needs_reply":
        return open_ & Q(waiting_since__isnull=False)
    return ~Q(status=Status.MERGED)


def _overdue_clocks(now: datetime) -> QuerySet[SlaClock]:
    return SlaClock.objects.filter(stopped_at__isnull=True, paused_at__isnull=True, due_at__lt=now)


def capped_count(rows: QuerySet[Conversation], cap: int = COUNT_CAP) -> int:
    """How many rows there are, counting no further than cap + 1 (meaning "more than cap")."""
    return rows.values("pk")[: cap + 1].count()


def queue_counts(membership: Membership, now: datetime, cap: int = COUNT_CAP) -> dict[str, int]:
    """How many conversations each queue holds for this member, up to cap + 1 each."""
    base = Conversation.objects.filter(organization_id=membership.organization_id)
    counts = {
        name: capped_count(base.filter(_queue_q(membership, name, now)), cap)
        for name in QUEUES
        if name != "overdue"
    }
    # Counted from the running clocks past due (an index), not by testing each open
    # conversation: most open ones have been answered and have no running clock.
    overdue = (
        _overdue_clocks(now)
        .filter(organization_id=membership.organization_id, conversation__status__in=OPEN)
        .values("conversation_id")
        .distinct()
    )
    counts["overdue"] = overdue[: cap + 1].count()
    return {name: counts[name] for name in QUEUES}


def queue(
    membership: Membership, name: str, filters: Filters, *, sort: str, now: datetime
) -> QuerySet[Conversation]:
    """The conversations of one queue, filtered and sorted by urgency or by age."""
    organization_id = membership.organization_id
    conversations = Conversation.objects.filter(
        _queue_q(membership, name if name in QUEUES else "all", now),
        organization_id=organization_id,
    )
    labels = {
        field: getattr(filters, field) for field in MESSAGE_FILTERS if getattr(filters, field)
    }
    if filters.channel:
        labels["channel__name"] = filters.channel
    if filters.text.strip():
        # The newest matching messages, found inside the search index first.
        found = newest_matches(Message.objects.all(), organization_id, filters.text)
        # Read first (at most SEARCH_LIMIT): as a subquery the database walks the whole
        # queue in order looking for these few conversations instead of sorting them.
        matched = set(found.filter(**labels).values_list("conversation_id", flat=True))
        conversations = conversations.filter(pk__in=matched)
    elif labels:
        # Tested row by row as the queue is walked in order, so a page stops early.
        conversations = conversations.filter(
            Exists(Message.objects.filter(conversation=OuterRef("pk"), **labels))
        )
    if filters.since is not None:
        conversations = conversations.filter(last_message_at__date__gte=filters.since)
    order: tuple[OrderBy, ...] = AGE_ORDER if sort == "age" else URGENCY_ORDER
    if filters.text.strip():
        # The few matched conversations are sorted, not found by walking the queue's
        # index: the first sort term wrapped in COALESCE keeps the database off that index.
        first = order[0].expression
        order = (OrderBy(Coalesce(first, first), descending=order[0].descending), *order[1:])
    return (
        conversations.select_related("customer", "assignee")
        # A list per row: the template then builds no related manager per row.
        .prefetch_related(Prefetch("channels", to_attr="channel_list"))
        .order_by(*order)
    )
