"""The posts API: the composer's services (draft, schedule, publish, override) over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from earful.channels.models import Channel
from earful.org.models import Event
from tests.publishing.conftest import complain
from tests.publishing.fake_mastodon import FakeMastodon

API = "/api/v1/orgs/acme/posts"


def test_a_post_is_drafted_scheduled_held_and_overridden_through_the_api(
    client: Client,
    owner: Any,
    mastodon: Channel,
    instance: FakeMastodon,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(owner)
    draft = client.post(
        API, {"text": "Hello Porto", "channels": [str(mastodon.code)]}, "application/json"
    )
    assert draft.status_code == 201 and draft.json()["state"] == "draft"
    code = draft.json()["code"]

    later = (timezone.now() + timedelta(hours=2)).isoformat()
    scheduled = client.post(f"{API}/{code}/schedule", {"scheduled_at": later}, "application/json")
    assert scheduled.json()["state"] == "scheduled"

    complain(mastodon, "601", timezone.now() - timedelta(hours=3))
    held = client.post(f"{API}/{code}/publish").json()
    assert held["state"] == "held" and held["hold_reasons"][0]["rule"] == "unanswered"

    empty = client.post(f"{API}/{code}/override", {"reason": " "}, "application/json")
    assert empty.status_code == 400 and "say why" in empty.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"{API}/{code}/override", {"reason": "safety"}, "application/json")
    assert sent.status_code == 200
    after = client.get(f"{API}/{code}").json()
    assert after["state"] == "published"
    [target] = after["targets"]
    assert (target["delivery"], target["attempts"]) == ("sent", 1)
    assert [p["code"] for p in client.get(API).json()] == [code]
    assert Event.objects.filter(verb="post.overridden", after={"reason": "safety"}).exists()


def test_a_channel_of_another_organization_is_refused(
    client: Client, owner: Any, other_org: Any, mastodon: Channel
) -> None:
    from earful.channels.services import create_channel

    theirs = create_channel(other_org, name="Theirs", kind="mastodon", settings=mastodon.settings)
    client.force_login(owner)
    answer = client.post(API, {"text": "Hi", "channels": [str(theirs.code)]}, "application/json")
    assert answer.status_code == 400
