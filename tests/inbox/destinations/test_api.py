"""Destinations over the API: the departments page's services, credentials never echoed."""

from __future__ import annotations

from typing import Any

from django.test import Client

from earful.inbox.models import Destination
from tests.channels.fakes import FakeServer
from tests.inbox.conftest import complain
from tests.inbox.destinations.fake_github import REPOSITORY, SECRET, TOKEN, FakeGithub


def test_a_manager_adds_checks_lists_and_removes_a_destination(
    channel: Any,
    owner: Any,
    client: Client,
    fake: FakeServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    github = FakeGithub(fake)
    client.force_login(owner)
    settings = {
        "repository": REPOSITORY,
        "token": TOKEN,
        "webhook_secret": SECRET,
        "api_url": fake.url,
    }

    added = client.post(
        "/api/v1/orgs/acme/departments/it/destinations",
        {"kind": "github", "settings": settings},
        content_type="application/json",
    )
    code = added.json()["code"]
    checked = client.post(f"/api/v1/orgs/acme/destinations/{code}/check").json()
    listed = client.get("/api/v1/orgs/acme/destinations")
    conversation = complain(channel, "c1", "The app crashes")
    with django_capture_on_commit_callbacks(execute=True):
        handoff = client.post(
            f"/api/v1/orgs/acme/conversations/{conversation.number}/hand-off",
            {"department": "it", "question": "Crash?"},
            content_type="application/json",
        )

    assert added.status_code == 200
    assert added.json()["webhook_path"] == f"/hooks/destinations/{code}/"
    assert (checked["last_check_ok"], checked["last_check"]) == (
        True,
        f"can open issues in {REPOSITORY}",
    )
    assert [d["department"] for d in listed.json()] == ["it"]
    assert TOKEN not in listed.content.decode() and SECRET not in listed.content.decode()
    # The answer to the hand-off is written before the ticket is opened (after commit).
    assert handoff.json()["tickets"][0]["state"] == "pending"
    assert len(github.issues) == 1
    removed = client.delete(f"/api/v1/orgs/acme/destinations/{code}")
    assert removed.status_code == 204 and not Destination.objects.exists()


def test_agents_and_bad_settings_get_a_reason(owner: Any, teammate: Any, client: Client) -> None:
    client.force_login(owner)
    bad = client.post(
        "/api/v1/orgs/acme/departments/it/destinations",
        {"kind": "github", "settings": {"repository": "x"}},
        content_type="application/json",
    )
    unknown = client.post(
        "/api/v1/orgs/acme/departments/it/destinations",
        {"kind": "carrier-pigeon", "settings": {}},
        content_type="application/json",
    )
    client.force_login(teammate.user)
    agent = client.get("/api/v1/orgs/acme/destinations")
    refused = client.post(
        "/api/v1/orgs/acme/departments/it/destinations",
        {"kind": "github", "settings": {}},
        content_type="application/json",
    )

    assert bad.status_code == 400 and "invalid github settings" in bad.json()["detail"]
    assert unknown.status_code == 400 and "unknown destination kind" in unknown.json()["detail"]
    assert agent.status_code == 200
    assert refused.status_code == 400 and "only managers" in refused.json()["detail"]
