"""Playbooks: one step sends the reply with its variables, hands off, sets priority and status."""

from __future__ import annotations

from typing import Any

import pytest

from earful.conversations.models import Conversation, Direction, Priority, Status
from earful.errors import DomainError
from earful.inbox.canned import save_canned_reply
from earful.inbox.playbooks import run_playbook
from earful.org.models import Department, Event
from tests.inbox.conftest import NOW


@pytest.fixture
def outage(org: Any, owner: Any) -> Any:
    return save_canned_reply(
        org,
        "Outage: escalate to IT",
        "Sorry {customer_name}, IT is on it. Your case is {case_reference}.",
        by=owner,
        handoff_to=Department.objects.get(organization=org, slug="it"),
        handoff_question="Customer {customer_name} reports an outage ({case_reference})",
        set_priority=Priority.HIGH,
    )


def test_a_playbook_replies_hands_off_and_raises_priority(
    complaint: Conversation, outage: Any, owner: Any
) -> None:
    reply = run_playbook(complaint, outage, by=owner, now=NOW)

    assert reply is not None and reply.direction == Direction.OUT
    assert f"#CASE-{complaint.number}" in reply.text and "{" not in reply.text
    complaint.refresh_from_db()
    assert complaint.priority == Priority.HIGH
    assert complaint.status == Status.WAITING_ON_DEPARTMENT
    handoff = complaint.handoffs.get()
    assert handoff.to_department.slug == "it" and "outage" in handoff.question
    assert Event.objects.filter(verb="playbook.run", actor=owner).count() == 1


def test_a_refused_step_leaves_nothing_done(
    complaint: Conversation, outage: Any, owner: Any
) -> None:
    run_playbook(complaint, outage, by=owner, now=NOW)
    replies = complaint.messages.filter(direction=Direction.OUT).count()

    with pytest.raises(DomainError, match="already has this conversation"):
        run_playbook(complaint, outage, by=owner, now=NOW)

    assert complaint.messages.filter(direction=Direction.OUT).count() == replies
    assert Event.objects.filter(verb="playbook.run").count() == 1


def test_a_playbook_can_resolve(complaint: Conversation, org: Any, owner: Any) -> None:
    done = save_canned_reply(
        org,
        "Thanks and close",
        "Glad it works, {customer_name}!",
        by=owner,
        set_status=Status.RESOLVED,
    )

    run_playbook(complaint, done, by=owner, now=NOW)

    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED


def test_a_playbook_is_checked_when_saved(org: Any, other_org: Any, owner: Any) -> None:
    foreign = Department.objects.filter(organization=other_org).first()

    with pytest.raises(DomainError, match="another organization"):
        save_canned_reply(org, "x", "hi", by=owner, handoff_to=foreign)
    with pytest.raises(DomainError, match="cannot set the status"):
        save_canned_reply(org, "x", "hi", by=owner, set_status="merged")
    with pytest.raises(DomainError, match="needs a text"):
        save_canned_reply(org, "x", " ", by=owner)


def test_a_playbook_runs_from_the_page_and_the_api(
    complaint: Conversation, outage: Any, owner: Any, client: Any
) -> None:
    client.force_login(owner)
    page = client.get(f"/o/acme/c/{complaint.number}/").content.decode()
    assert "Outage: escalate to IT" in page

    response = client.post(f"/o/acme/c/{complaint.number}/playbook/", {"playbook": outage.code})

    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.WAITING_ON_DEPARTMENT
    again = client.post(
        f"/api/v1/orgs/acme/conversations/{complaint.number}/playbooks/{outage.code}"
    )
    assert again.status_code == 400
    assert "already has this conversation" in again.json()["detail"]


def test_managers_save_playbooks_over_the_api(org: Any, owner: Any, client: Any) -> None:
    client.force_login(owner)

    saved = client.post(
        "/api/v1/orgs/acme/canned-replies",
        {
            "name": "Legal hold",
            "handoff_to": "legal",
            "handoff_question": "Review please",
            "set_priority": 3,
        },
        content_type="application/json",
    )

    assert saved.status_code == 200, saved.content
    assert saved.json()["handoff_to"] == "legal" and saved.json()["set_priority"] == 3
