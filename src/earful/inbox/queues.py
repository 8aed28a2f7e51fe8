"""The inbox's reads: the queues, their counts, filters, search and sort order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy

from earful.conversations.models import Conversation, HandoffStatus, Message, Status
from earful.conversations.search import filter_by_text
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
MESSAGE_FILTERS = ("sentiment", "intent", "language", "topic")


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


def _queue_q(membership: Membership, queue: str, now: datetime) -> Q:
    open_ = ~Q(status__in=CLOSED)
    if queue == "unassigned":
        return open_ & Q(assignee__isnull=True)
    if queue == "mine":
        return open_ & Q(assignee_id=membership.user_id)
    if queue == "department":
        if membership.department_id is None:
            return Q(pk__in=[])
        waiting_on_us = Q(
            handoffs__to_department_id=membership.department_id,
            handoffs__status__in=(HandoffStatus.OPEN, HandoffStatus.ANSWERED),
        )
        return open_ & (waiting_on_us | Q(department_id=membership.department_id))
    if queue == "overdue":
        return open_ & Q(
            sla_clocks__stopped_at__isnull=True,
            sla_clocks__paused_at__isnull=True,
            sla_clocks__due_at__lt=now,
        )
    if queue == "needs_reply":
        return open_ & Q(waiting_since__isnull=False)
    return ~Q(status=Status.MERGED)


def queue_counts(membership: Membership, now: datetime) -> dict[str, int]:
    """How many conversations each queue holds for this member."""
    base = Conversation.objects.filter(organization_id=membership.organization_id)
    return {
        name: base.filter(_queue_q(membership, name, now)).distinct().count() for name in QUEUES
    }


def queue(
    membership: Membership, name: str, filters: Filters, *, sort: str, now: datetime
) -> QuerySet[Conversation]:
    """The conversations of one queue, filtered and sorted by urgency or by age."""
    conversations = Conversation.objects.filter(
        _queue_q(membership, name if name in QUEUES else "all", now),
        organization_id=membership.organization_id,
    )
    messages = Message.objects.filter(organization_id=membership.organization_id)
    narrowed = False
    for field in MESSAGE_FILTERS:
        value = getattr(filters, field)
        if value:
            messages, narrowed = messages.filter(**{field: value}), True
    if filters.channel:
        messages, narrowed = messages.filter(channel__name=filters.channel), True
    if filters.text.strip():
        messages, narrowed = filter_by_text(messages, filters.text), True
    if narrowed:
        conversations = conversations.filter(pk__in=messages.values("conversation_id"))
    if filters.since is not None:
        conversations = conversations.filter(last_message_at__date__gte=filters.since)
    order: list[str | OrderBy] = (
        [F("waiting_since").asc(nulls_last=True), "started_at", "number"]
        if sort == "age"
        else ["-priority", "-urgency", F("waiting_since").asc(nulls_last=True), "number"]
    )
    return (
        conversations.distinct()
        .select_related("customer", "assignee")
        .prefetch_related("channels")
        .order_by(*order)
    )
