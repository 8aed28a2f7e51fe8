"""The departments page: managers add a destination from its form, check it, remove it."""

from __future__ import annotations

from typing import Any

from django.test import Client

from earful.inbox.models import Destination
from earful.org.models import Event
from tests.channels.fakes import FakeServer
from tests.inbox.destinations.fake_github import REPOSITORY, SECRET, TOKEN, FakeGithub


def test_a_manager_adds_checks_and_removes_a_github_destination(
    org: Any, owner: Any, client: Client, fake: FakeServer
) -> None:
    FakeGithub(fake)
    client.force_login(owner)
    form = {
        "kind": "github",
        "repository": REPOSITORY,
        "token": TOKEN,
        "webhook_secret": SECRET,
        "api_url": fake.url,
        "labels": "from-earful, customer",
        "redaction": "anonymous",
    }

    added = client.post("/o/acme/departments/it/destinations/", form, follow=True)
    destination = Destination.objects.get()
    checked = client.post(f"/o/acme/destinations/{destination.code}/check/", follow=True)
    page = client.get("/o/acme/departments/").content.decode()

    assert destination.settings["labels"] == ["from-earful", "customer"]
    assert destination.redaction == "anonymous" and destination.settings["poll"] is False
    assert added.status_code == 200 and "Reached in earful only" in page
    assert f"can open issues in {REPOSITORY}" in checked.content.decode()
    assert f"/hooks/destinations/{destination.code}/" in page
    # Credentials are typed in once and never shown again.
    assert TOKEN not in page and SECRET not in page
    client.post(f"/o/acme/destinations/{destination.code}/remove/")
    assert not Destination.objects.exists()
    verbs = list(
        Event.objects.filter(verb__startswith="destination.").values_list("verb", flat=True)
    )
    assert verbs == ["destination.added", "destination.checked", "destination.removed"]


def test_bad_settings_and_agents_are_refused_with_a_reason(
    owner: Any, client: Client, teammate: Any
) -> None:
    client.force_login(owner)
    refused = client.post(
        "/o/acme/departments/it/destinations/",
        {"kind": "github", "repository": "not a repo", "token": "t", "webhook_secret": "short"},
        follow=True,
    )
    assert "invalid github settings" in refused.content.decode()
    client.force_login(teammate.user)
    agent = client.post(
        "/o/acme/departments/it/destinations/",
        {"kind": "github", "repository": REPOSITORY, "token": TOKEN, "webhook_secret": SECRET},
        follow=True,
    )
    assert "only managers and admins" in agent.content.decode()
    assert not Destination.objects.exists()
