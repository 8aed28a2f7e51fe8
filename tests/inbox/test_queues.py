"""The queues hold what their names say, sorted by urgency or age."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from earful.conversations.models import Conversation, Message, Priority
from earful.inbox import assignment, handoffs
from earful.inbox.queues import COUNT_CAP, Filters, queue, queue_counts
from earful.inbox.sla import check_sla
from earful.inbox.templatetags.inbox_tags import capped
from earful.inbox.views import LAST_PAGE, bounded_page
from earful.org.models import Department, Membership
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record
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


def test_counts_stop_past_the_cap(channel: Any, teammate: Membership) -> None:
    for n in range(3):
        complain(channel, f"k{n}", f"complaint {n}", f"c{n}")

    assert queue_counts(teammate, NOW, cap=2)["all"] == 3
    assert queue_counts(teammate, NOW, cap=5)["all"] == 3
    assert queue_counts(teammate, NOW, cap=1)["needs_reply"] == 2


def test_a_capped_count_reads_as_more_than_the_cap() -> None:
    assert capped(COUNT_CAP + 1) == "1,000+"
    assert capped(COUNT_CAP) == "1,000"
    assert capped(7) == "7"


def test_waiting_conversations_come_before_answered_ones_in_both_sorts(
    channel: Any, teammate: Membership
) -> None:
    answered = complain(channel, "w1", "first", "c1", created_at="2026-11-01T07:00:00+00:00")
    later = complain(channel, "w2", "second", "c2", created_at="2026-11-01T09:00:00+00:00")
    earlier = complain(channel, "w3", "third", "c3", created_at="2026-11-01T08:00:00+00:00")
    Conversation.objects.filter(pk=answered.pk).update(waiting_since=None)

    for sort in ("age", "urgency"):
        assert numbers(queue(teammate, "all", Filters(), sort=sort, now=NOW)) == [
            earlier.number,
            later.number,
            answered.number,
        ]


def test_a_label_filter_finds_a_conversation_by_any_of_its_messages(
    channel: Any, teammate: Membership
) -> None:
    first = complain(channel, "m1", "hello there", "c1")
    ingest_batch(channel, numbered([record("m2", "still broken", in_reply_to="m1")]))
    Message.objects.filter(external_id="m2").update(topic="network")
    complain(channel, "m3", "another matter", "c2")

    found = queue(teammate, "all", Filters(topic="network"), sort="urgency", now=NOW)

    assert numbers(found) == [first.number]


def test_a_page_knows_whether_another_follows_without_counting(
    channel: Any, teammate: Membership
) -> None:
    for n in range(3):
        complain(channel, f"p{n}", f"complaint {n}", f"c{n}")
    rows = queue(teammate, "all", Filters(), sort="age", now=NOW)

    first, second = bounded_page(rows, "1", size=2), bounded_page(rows, "2", size=2)

    assert (len(first.rows), first.has_next, first.has_previous) == (2, True, False)
    assert (len(second.rows), second.has_next, second.seen) == (1, False, 3)
    assert bounded_page(rows, "nonsense", size=2).number == 1
    assert bounded_page(rows, "-4", size=2).number == 1
    assert bounded_page(rows, "99999", size=2).number == LAST_PAGE
