"""The inbox over the API: the same services as the pages, from queue to report back."""

from __future__ import annotations

from typing import Any

from django.test import Client

from earful.conversations.models import Conversation, HandoffStatus
from earful.inbox.models import LabelCorrection, SlaClock
from earful.org.models import Department, Role
from earful.org.services import add_member
from tests.inbox.conftest import complain


def test_the_whole_hand_off_over_the_api(
    channel: Any, owner: Any, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    conversation = complain(channel, "a1", "The app crashes on login")
    it = Department.objects.get(organization=conversation.organization, slug="it")
    ivy = add_member(conversation.organization, "ivy@acme.example", role=Role.AGENT, department=it)
    base = f"/api/v1/orgs/acme/conversations/{conversation.number}"
    client.force_login(owner)

    unassigned = client.get("/api/v1/orgs/acme/inbox").json()
    assigned = client.post(
        f"{base}/assign", {"assignee": "owner@acme.example"}, content_type="application/json"
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        replied = client.post(
            f"{base}/reply", {"text": "Sorry! Checking."}, content_type="application/json"
        ).json()
    handoff = client.post(
        f"{base}/hand-off",
        {"department": "it", "question": "Crash?"},
        content_type="application/json",
    ).json()
    client.force_login(ivy.user)
    department = client.get("/api/v1/orgs/acme/inbox", {"queue": "department"}).json()
    client.post(
        f"/api/v1/orgs/acme/handoffs/{handoff['code']}/fixed",
        {"answer": "Fixed in 4.2"},
        content_type="application/json",
    )
    client.force_login(owner)
    draft = client.get(f"/api/v1/orgs/acme/handoffs/{handoff['code']}/draft").json()["text"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/api/v1/orgs/acme/handoffs/{handoff['code']}/report-back",
            {"text": draft},
            content_type="application/json",
        )
    resolved = client.post(
        f"{base}/status", {"status": "resolved"}, content_type="application/json"
    ).json()
    clocks = client.get(f"{base}/sla").json()

    assert [c["number"] for c in unassigned["conversations"]] == [conversation.number]
    assert unassigned["counts"]["unassigned"] == 1
    assert assigned["assignee"] == "owner@acme.example"
    assert replied["text"].endswith(f"#CASE-{conversation.number}")
    assert [c["number"] for c in department["conversations"]] == [conversation.number]
    assert "Fixed in 4.2" in draft
    assert resolved["status"] == "resolved"
    assert clocks and all(c["stopped_at"] for c in clocks)
    assert Conversation.objects.get().handoffs.get().status == HandoffStatus.REPORTED_BACK
    assert not SlaClock.objects.filter(stopped_at__isnull=True).exists()


def test_it_refuses_to_resolve_unanswered_without_a_reason(
    channel: Any, owner: Any, client: Client
) -> None:
    conversation = complain(channel, "a2", "Where is my refund?")
    client.force_login(owner)

    response = client.post(
        f"/api/v1/orgs/acme/conversations/{conversation.number}/status",
        {"status": "resolved"},
        content_type="application/json",
    )

    assert response.status_code == 400 and "reason" in response.json()["detail"]


def test_tone_and_corrections(channel: Any, owner: Any, client: Client) -> None:
    conversation = complain(channel, "a3", "Terrible service")
    message = conversation.messages.get()
    client.force_login(owner)

    tone = client.post(
        "/api/v1/orgs/acme/tone", {"text": "Stop whining."}, content_type="application/json"
    ).json()
    corrected = client.post(
        f"/api/v1/orgs/acme/messages/{message.code}/corrections",
        {"field": "intent", "value": "complaint"},
        content_type="application/json",
    )
    wrong = client.post(
        f"/api/v1/orgs/acme/messages/{message.code}/corrections",
        {"field": "intent", "value": "rant"},
        content_type="application/json",
    )

    assert tone["ok"] is False and tone["flags"][0]["category"] == "hostile"
    assert corrected.status_code == 200 and wrong.status_code == 400
    assert LabelCorrection.objects.get().new == "complaint"
