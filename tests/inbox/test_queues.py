"""The queues hold what their names say, sorted by urgency or age."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from earful.conversations.models import Conversation, Priority
from earful.inbox import assignment, handoffs
from earful.inbox.queues import Filters, queue, queue_counts
from earful.inbox.sla import check_sla
from earful.org.models import Department, Membership
from tests.inbox.conftest import NOW, complain


def numbers(conversations: Any) -> list[int]:
    return [c.number for c in conversations]


def test_each_queue_holds_its_conversations(
    channel: Any, owner: Any, teammate: Membership, it_member: Membership
) -> None:
    mine = complain(channel, "q1", "refund please", "c1")
    theirs = complain(channel, "q2", "app crashes", "c2")
    assignment.assign(mine, teammate, by=owner)
    it = Department.objects.get(organization=mine.organization, slug="it")
    handoffs.hand_off(theirs, it, "crash?", by=owner, now=NOW)
    check_sla(mine.organization, mine.started_at + timedelta(days=3))

    counts = queue_counts(teammate, NOW + timedelta(days=3))

    assert numbers(queue(teammate, "mine", Filters(), sort="age", now=NOW)) == [mine.number]
    assert numbers(queue(it_member, "department", Filters(), sort="age", now=NOW)) == [
        theirs.number
    ]
    assert numbers(queue(teammate, "unassigned", Filters(), sort="age", now=NOW)) == [theirs.number]
    assert counts == {
        "unassigned": 1,
        "mine": 1,
        "department": 0,
        "overdue": 2,
        "needs_reply": 2,
        "all": 2,
    }


def test_urgency_sorts_breached_first_and_age_sorts_oldest_first(
    channel: Any, teammate: Membership
) -> None:
    old = complain(channel, "s1", "first", "c1", created_at="2026-11-01T08:00:00+00:00")
    new = complain(channel, "s2", "second", "c2", created_at="2026-11-01T09:00:00+00:00")
    Conversation.objects.filter(pk=new.pk).update(priority=Priority.URGENT)

    by_age = queue(teammate, "all", Filters(), sort="age", now=NOW)
    by_urgency = queue(teammate, "all", Filters(), sort="urgency", now=NOW)

    assert numbers(by_age) == [old.number, new.number]
    assert numbers(by_urgency) == [new.number, old.number]


def test_filters_narrow_by_label_channel_date_and_text(channel: Any, teammate: Membership) -> None:
    a = complain(channel, "f1", "my luggage is lost", "c1", created_at="2026-11-01T08:00:00+00:00")
    complain(channel, "f2", "great service", "c2", created_at="2026-11-03T08:00:00+00:00")
    label = a.messages.get().intent

    def pick(**filters: Any) -> list[int]:
        return numbers(queue(teammate, "all", Filters(**filters), sort="age", now=NOW))

    assert a.number in pick(intent=label)
    assert pick(text="luggage") == [a.number]
    assert pick(channel="no such channel") == []
    assert a.number not in pick(since=date(2026, 11, 2))
