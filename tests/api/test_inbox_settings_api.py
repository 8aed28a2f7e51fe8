"""Managers set the SLA policy and canned replies over the API; agents cannot."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

from earful.inbox import canned
from earful.inbox.models import SlaPolicy
from earful.org.models import Event
from tests.inbox.conftest import complain

POLICY = {
    "first_response_minutes": 30,
    "next_response_minutes": 120,
    "resolution_minutes": 1440,
    "business_hours_only": True,
    "timezone": "Europe/Berlin",
    "day_start_hour": 8,
    "day_end_hour": 18,
    "weekdays": "01234",
}


def test_a_manager_sets_the_policy_and_an_agent_cannot(
    org: Any, owner: Any, client: Client
) -> None:
    client.force_login(owner)
    saved = client.put("/api/v1/orgs/acme/sla-policy", POLICY, content_type="application/json")
    bad = client.put(
        "/api/v1/orgs/acme/sla-policy",
        {**POLICY, "timezone": "Mars/Olympus"},
        content_type="application/json",
    )
    client.force_login(get_user_model().objects.get(username="teammate@acme.example"))
    refused = client.put("/api/v1/orgs/acme/sla-policy", POLICY, content_type="application/json")

    assert saved.status_code == 200 and saved.json() == POLICY
    assert bad.status_code == 400 and refused.status_code == 400
    assert SlaPolicy.objects.get().first_response_minutes == 30
    assert Event.objects.filter(verb="sla_policy.saved").count() == 1


def test_canned_replies_fill_their_variables(channel: Any, owner: Any, client: Client) -> None:
    conversation = complain(channel, "k1", "Where is my bag?")
    client.force_login(owner)
    client.post(
        "/api/v1/orgs/acme/canned-replies",
        {"name": "sorry", "text": "Hi {customer_name}, about {case_reference}: {unknown}"},
        content_type="application/json",
    )

    listed = client.get("/api/v1/orgs/acme/canned-replies").json()
    text = canned.render(listed[0]["text"], canned.variables(conversation, owner))
    page = client.get(f"/o/acme/c/{conversation.number}/").content.decode()

    assert text == f"Hi Sam Reed, about #CASE-{conversation.number}: {{unknown}}"
    assert f"Hi Sam Reed, about #CASE-{conversation.number}" in page


def test_an_agent_goes_away_and_is_skipped(org: Any, client: Client) -> None:
    teammate = get_user_model().objects.get(username="teammate@acme.example")
    client.force_login(teammate)

    away = client.put(
        "/api/v1/orgs/acme/availability", {"available": False}, content_type="application/json"
    )
    page = client.post("/o/acme/inbox/availability/", {"available": "1"})

    assert away.json() == {"available": False}
    assert page.status_code == 302
    assert Event.objects.filter(verb="membership.availability").count() == 2
