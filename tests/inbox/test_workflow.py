"""Assignment, status changes, notes with @mentions, hand-off and report back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from earful.conversations.models import Conversation, HandoffStatus, Status
from earful.errors import DomainError
from earful.inbox import assignment, handoffs, workflow
from earful.inbox.models import OutboxItem, OutboxStatus
from earful.inbox.replies import send_reply_to_customer
from earful.org.models import Department, Event, Membership, Role
from earful.org.services import add_member
from tests.inbox.conftest import NOW, complain


def test_it_assigns_oldest_first_in_turn_within_capacity(org: Any, channel: Any) -> None:
    first = add_member(org, "a@acme.example", role=Role.AGENT)
    second = add_member(org, "b@acme.example", role=Role.AGENT)
    Membership.objects.filter(user__username="teammate@acme.example").update(available=False)
    Membership.objects.filter(pk=first.pk).update(capacity=2)
    Membership.objects.filter(pk=second.pk).update(capacity=1)
    conversations = [complain(channel, f"m{i}", f"problem number {i}", f"c{i}") for i in range(4)]

    assigned = assignment.auto_assign(org, now=NOW)

    owners = {c.number: c.assignee.username for c in assigned if c.assignee}
    assert [c.number for c in assigned] == [c.number for c in conversations[:3]]
    assert owners[conversations[0].number] == "a@acme.example"
    assert owners[conversations[1].number] == "b@acme.example"
    # b is full at one, a at two: the fourth waits; the absent teammate gets nothing.
    assert owners[conversations[2].number] == "a@acme.example"
    assert set(owners.values()) == {first.user.username, second.user.username}
    assert Event.objects.filter(verb="conversation.assigned").count() == 3


def test_it_reassigns_by_hand_with_an_event(
    complaint: Conversation, teammate: Any, owner: Any
) -> None:
    assignment.assign(complaint, teammate, by=owner)

    event = Event.objects.get(verb="conversation.assigned")
    assert complaint.assignee == teammate.user
    assert event.after == {"assignee": "teammate@acme.example", "auto": False}


def test_it_refuses_to_resolve_unanswered_without_a_reason(
    complaint: Conversation, owner: Any
) -> None:
    with pytest.raises(DomainError, match="reason"):
        workflow.set_status(complaint, Status.RESOLVED, by=owner, now=NOW)

    workflow.set_status(complaint, Status.RESOLVED, by=owner, now=NOW, reason="spam")

    assert complaint.status == Status.RESOLVED
    assert Event.objects.get(verb="conversation.status_changed").after["reason"] == "spam"


def test_it_names_mentioned_members_in_the_note_event(complaint: Conversation, owner: Any) -> None:
    workflow.add_note(complaint, "@teammate can you check? cc @nobody", by=owner)

    event = Event.objects.get(verb="conversation.note_added")
    assert event.after["mentions"] == ["teammate@acme.example"]
    assert complaint.notes.get().text.startswith("@teammate")


def test_a_handoff_goes_fixed_then_reported_back(
    complaint: Conversation,
    owner: Any,
    it_member: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    it = Department.objects.get(slug="it", organization=complaint.organization)
    handoff = handoffs.hand_off(complaint, it, "Router firmware?", by=owner, now=NOW)
    assert complaint.status == Status.WAITING_ON_DEPARTMENT
    with pytest.raises(DomainError):
        handoffs.mark_fixed(handoff, "done", by=None, now=NOW)

    handoffs.mark_fixed(handoff, "Pushed firmware 2.1", by=it_member.user, now=NOW)
    draft = handoffs.report_back_draft(handoff)
    with django_capture_on_commit_callbacks(execute=True):
        message = handoffs.report_back(handoff, draft, by=owner, now=NOW + timedelta(minutes=5))

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.REPORTED_BACK
    assert "Sam Reed" in draft and "IT" in draft and "Pushed firmware 2.1" in draft
    assert f"#CASE-{complaint.number}" in message.text
    assert OutboxItem.objects.get(message=message).status == OutboxStatus.RECORDED
    verbs = list(
        Event.objects.filter(verb__startswith="handoff.")
        .order_by("pk")
        .values_list("verb", flat=True)
    )
    assert verbs == ["handoff.requested", "handoff.fixed", "handoff.reported_back"]
    complaint.refresh_from_db()
    workflow.set_status(complaint, Status.RESOLVED, by=owner, now=NOW + timedelta(minutes=6))


def test_only_the_department_or_a_manager_marks_fixed(
    complaint: Conversation, owner: Any, teammate: Any
) -> None:
    it = Department.objects.get(slug="it", organization=complaint.organization)
    handoff = handoffs.hand_off(complaint, it, "Look?", by=owner, now=NOW)

    with pytest.raises(DomainError, match="IT"):
        handoffs.mark_fixed(handoff, "done", by=teammate.user, now=NOW)


def test_a_reply_is_recorded_with_the_case_reference(
    complaint: Conversation, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = send_reply_to_customer(complaint, "Sorry! Looking now.", by=owner, now=NOW)

    complaint.refresh_from_db()
    assert complaint.waiting_since is None and complaint.first_response_at == NOW
    assert message.text.endswith(f"Ref: #CASE-{complaint.number}")
    item = OutboxItem.objects.get(message=message)
    assert (item.status, item.attempts) == (OutboxStatus.RECORDED, 1)


def test_a_reply_longer_than_the_channel_allows_is_refused(
    complaint: Conversation, owner: Any
) -> None:
    with pytest.raises(DomainError, match="280"):
        send_reply_to_customer(complaint, "x" * 280, by=owner, now=NOW)


def test_mentioned_members_are_emailed_but_not_the_author(
    complaint: Conversation,
    owner: Any,
    mailoutbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        workflow.add_note(complaint, "@teammate and @owner please look", by=owner)

    (mail,) = mailoutbox
    assert mail.to == ["teammate@acme.example"]
    assert mail.subject == f"[earful] You were mentioned on #{complaint.number}"
    assert "please look" in mail.body
