"""The channel status API: members see status and lag, admins check and pause, outsiders 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from ninja import NinjaAPI
from ninja.testing import TestClient

from earful.channels.api import router
from earful.channels.models import Channel
from earful.channels.services import create_channel
from earful.org.models import Event
from tests.channels.fakes import FakeServer, fixture_text

api = NinjaAPI(urls_namespace="channels-test")
api.add_router("/", router)
client = TestClient(api)


@pytest.fixture
def feed(org: Any, fake: FakeServer) -> Channel:
    fake.reply("GET", "/feed", 200, fixture_text("rss", "rss2.xml"))
    channel = create_channel(org, name="Forum", kind="rss", settings={"url": fake.url + "/feed"})
    Channel.objects.filter(pk=channel.pk).update(
        last_success_at=timezone.now() - timedelta(minutes=5), last_error="", failures=0
    )
    return channel


def test_a_member_sees_status_and_lag(feed: Channel, owner: Any) -> None:
    response = client.get("/orgs/acme/channels", user=owner)

    assert response.status_code == 200
    [status] = response.json()
    assert status["code"] == str(feed.code)
    assert 290 <= status["lag_seconds"] <= 400
    assert "settings" not in status


def test_settings_and_their_secrets_never_leave(org: Any, owner: Any) -> None:
    hook = create_channel(org, name="Hook", kind="webhook", settings={"secret": "s" * 40})

    body = client.get(f"/orgs/acme/channels/{hook.code}", user=owner).content.decode()

    assert "s" * 40 not in body


def test_an_admin_checks_the_credentials(feed: Channel, owner: Any) -> None:
    response = client.post(f"/orgs/acme/channels/{feed.code}/check", user=owner)

    assert response.json() == {
        "ok": True,
        "message": "feed 'Frequent Flyer Forum - Acme Air' answers with 2 entries",
    }


def test_an_admin_pauses_a_channel_with_an_audit_event(feed: Channel, owner: Any) -> None:
    response = client.post(
        f"/orgs/acme/channels/{feed.code}/enabled", json={"enabled": False}, user=owner
    )

    assert response.json()["enabled"] is False
    assert Event.objects.filter(verb="channel.disabled", actor=owner).exists()


def test_an_agent_cannot_manage_a_channel(feed: Channel) -> None:
    from django.contrib.auth import get_user_model

    agent = get_user_model().objects.get(username="teammate@acme.example")

    assert client.get(f"/orgs/acme/channels/{feed.code}", user=agent).status_code == 200
    response = client.post(
        f"/orgs/acme/channels/{feed.code}/enabled", json={"enabled": False}, user=agent
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/orgs/acme/channels"),
        ("get", "/orgs/acme/channels/{code}"),
        ("post", "/orgs/acme/channels/{code}/check"),
        ("post", "/orgs/acme/channels/{code}/enabled"),
        ("get", "/orgs/rival/channels/{code}"),
    ],
)
def test_an_outsider_gets_404_everywhere(
    feed: Channel, outsider: Any, method: str, path: str
) -> None:
    url = path.format(code=feed.code)
    kwargs: dict[str, Any] = {"json": {"enabled": False}} if url.endswith("enabled") else {}

    response = getattr(client, method)(url, user=outsider, **kwargs)

    assert response.status_code == 404
    feed.refresh_from_db()
    assert feed.enabled


def test_an_admin_blocks_and_unblocks_an_identity(org: Any, owner: Any) -> None:
    created = client.post(
        "/orgs/acme/blocks", json={"identity": "@troll", "reason": "abuse"}, user=owner
    )

    assert created.status_code == 201
    rule = created.json()
    assert (rule["action"], rule["identity"]) == ("block", "@troll")
    assert [r["code"] for r in client.get("/orgs/acme/blocks", user=owner).json()] == [rule["code"]]
    assert client.delete(f"/orgs/acme/blocks/{rule['code']}", user=owner).status_code == 204
    assert client.get("/orgs/acme/blocks", user=owner).json() == []
    assert Event.objects.filter(verb="block_rule.removed", actor=owner).exists()


def test_a_block_rule_must_name_something(org: Any, owner: Any) -> None:
    response = client.post("/orgs/acme/blocks", json={"pattern": "*"}, user=owner)

    assert response.status_code == 400
    assert "wildcards" in response.json()["detail"]


def test_blocks_are_not_for_agents_or_outsiders(org: Any, owner: Any, outsider: Any) -> None:
    from django.contrib.auth import get_user_model

    agent = get_user_model().objects.get(username="teammate@acme.example")
    code = client.post("/orgs/acme/blocks", json={"identity": "x"}, user=owner).json()["code"]

    for user in (agent, outsider):
        assert client.get("/orgs/acme/blocks", user=user).status_code == 404
        assert (
            client.post("/orgs/acme/blocks", json={"identity": "y"}, user=user).status_code == 404
        )
        assert client.delete(f"/orgs/acme/blocks/{code}", user=user).status_code == 404
