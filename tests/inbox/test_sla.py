"""SLA clocks: business hours, pauses while waiting on the customer, breaches, stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from earful.conversations.models import Conversation, Priority, Status
from earful.inbox import workflow
from earful.inbox.models import SlaClock, SlaMetric, SlaPolicy
from earful.inbox.replies import send_reply_to_customer
from earful.inbox.sla import add_business_time, business_seconds_between, check_sla, sync_clocks
from earful.inbox.tick import tick
from earful.org.models import Event
from tests.inbox.conftest import NOW

OFFICE = SlaPolicy(business_hours_only=True, day_start_hour=9, day_end_hour=17, weekdays="01234")


def test_business_time_skips_nights_and_weekends() -> None:
    friday_4pm = datetime(2026, 11, 6, 16, 0, tzinfo=UTC)

    due = add_business_time(friday_4pm, 2 * 3600, OFFICE)

    assert due == datetime(2026, 11, 9, 10, 0, tzinfo=UTC)
    assert business_seconds_between(friday_4pm, due, OFFICE) == 2 * 3600


def test_clocks_start_with_the_customer_and_stop_on_reply_and_resolve(
    complaint: Conversation, owner: Any
) -> None:
    sync_clocks(complaint, NOW)
    running = {c.metric for c in SlaClock.objects.filter(stopped_at__isnull=True)}
    assert running == {SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION}

    send_reply_to_customer(complaint, "On it.", by=owner, now=NOW)
    complaint.refresh_from_db()
    workflow.set_status(complaint, Status.RESOLVED, by=owner, now=NOW + timedelta(minutes=1))

    assert not SlaClock.objects.filter(stopped_at__isnull=True).exists()
    first = SlaClock.objects.get(metric=SlaMetric.FIRST_RESPONSE)
    assert first.stopped_at == NOW


def test_the_resolution_clock_pauses_while_waiting_on_the_customer(
    complaint: Conversation, owner: Any
) -> None:
    sync_clocks(complaint, NOW)
    due = SlaClock.objects.get(metric=SlaMetric.RESOLUTION).due_at
    workflow.set_status(complaint, Status.PENDING, by=owner, now=NOW)
    workflow.set_status(complaint, Status.OPEN, by=owner, now=NOW + timedelta(hours=3))

    assert SlaClock.objects.get(metric=SlaMetric.RESOLUTION).due_at == due + timedelta(hours=3)


def test_a_breach_is_marked_once_and_escalated(complaint: Conversation) -> None:
    late = complaint.started_at + timedelta(days=3)

    first = check_sla(complaint.organization, late)
    again = check_sla(complaint.organization, late + timedelta(minutes=1))

    assert {c.metric for c in first} == {SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION}
    assert again == []
    complaint.refresh_from_db()
    assert complaint.priority == Priority.URGENT
    assert Event.objects.filter(verb="sla.breached").count() == 2


def test_the_tick_marks_breaches_in_every_organization(complaint: Conversation) -> None:
    report = tick(complaint.started_at + timedelta(days=3))

    assert report.breached == 2 and report.delivered == 0


def test_the_tick_auto_assigns_only_where_the_organization_wants_it(
    complaint: Conversation,
) -> None:
    organization = complaint.organization
    organization.auto_assign = False
    organization.save()

    assert tick(complaint.started_at).assigned == 0
    complaint.refresh_from_db()
    assert complaint.assignee is None

    organization.auto_assign = True
    organization.save()
    assert tick(complaint.started_at).assigned == 1
    complaint.refresh_from_db()
    assert complaint.assignee is not None


def test_managers_are_emailed_about_a_breach(
    complaint: Conversation, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    from earful.org.models import Role
    from earful.org.services import add_member

    add_member(complaint.organization, "boss@acme.example", role=Role.MANAGER)
    late = complaint.started_at + timedelta(days=3)

    with django_capture_on_commit_callbacks(execute=True):
        check_sla(complaint.organization, late)

    (mail,) = mailoutbox
    assert set(mail.to) == {"boss@acme.example", "owner@acme.example"}
    assert f"#{complaint.number}" in mail.body
    assert "teammate@acme.example" not in mail.to
