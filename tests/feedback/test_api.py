"""The feedback API calls the same services as the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from earful.feedback.board import post_idea
from earful.feedback.models import FeedbackRequest, IdeaSupporter
from earful.inbox.models import OutboxItem
from tests.feedback.helpers import ANA, tweet

pytestmark = pytest.mark.django_db
API = "/api/v1/orgs/acme"


@pytest.fixture
def member(owner: Any, client: Client) -> Client:
    client.force_login(owner)
    return client


def _post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"{API}{path}", body or {}, content_type="application/json")


def test_ideas_are_opened_voted_merged_and_shipped(
    board: Any, email_channel: Any, member: Client
) -> None:
    first = _post(member, "/ideas", {"title": "Seat picking"}).json()
    second = _post(member, "/ideas", {"title": "Choose my seat"}).json()
    _post(member, f"/ideas/{first['number']}/votes", {"name": "Ana", "email": "ana@example.com"})
    _post(member, f"/ideas/{second['number']}/votes", {"name": "Ben", "email": "ben@example.com"})
    _post(member, f"/ideas/{second['number']}/votes", {"name": "Ana", "email": "ana@example.com"})

    merged = _post(member, f"/ideas/{second['number']}/merge-into/{first['number']}").json()
    shipped = _post(member, f"/ideas/{first['number']}/status", {"status": "shipped"}).json()

    assert merged["supporters"] == 2
    assert shipped["status"] == "shipped"
    supporters = member.get(f"{API}/ideas/{first['number']}/supporters").json()
    assert len(supporters) == 2 and all(s["notified_at"] for s in supporters)
    assert OutboxItem.objects.count() == 2
    listed = member.get(f"{API}/ideas").json()
    assert [i["status"] for i in listed] == ["shipped", "duplicate"]


def test_a_message_is_linked_over_the_api(board: Any, channel: Any, member: Client) -> None:
    idea = post_idea(board, ANA, "Vegetarian meals")
    post = tweet(channel, "t1", "please offer vegetarian meals")

    response = _post(member, f"/ideas/{idea.number}/links", {"message": str(post.code)})

    assert response.status_code == 200
    assert response.json()["how"] == "linked_message"
    assert IdeaSupporter.objects.filter(idea=idea).count() == 2


def test_bad_requests_get_the_reason(board: Any, member: Client) -> None:
    idea = _post(member, "/ideas", {"title": "Seat picking"}).json()

    assert (
        _post(member, f"/ideas/{idea['number']}/status", {"status": "nonsense"}).status_code == 400
    )
    assert _post(member, f"/ideas/{idea['number']}/merge-into/{idea['number']}").status_code == 400
    refused = _post(member, f"/ideas/{idea['number']}/votes", {"name": "A", "email": "nope"})
    assert refused.status_code == 400
    assert "email" in refused.json()["detail"]
    assert _post(member, "/feedback-requests", {"email": "not-an-address"}).status_code == 400
    assert _post(member, "/ideas", {"title": " "}).status_code == 400


def test_a_feedback_request_is_sent_or_skipped_with_the_reason(
    board: Any, email_channel: Any, member: Client
) -> None:
    body = {"email": "zoe@example.com", "reference": "order 9"}

    first = _post(member, "/feedback-requests", body).json()
    second = _post(member, "/feedback-requests", body).json()

    assert first["sent"] and first["code"] == str(FeedbackRequest.objects.get().code)
    assert not second["sent"] and "already asked" in second["skipped"]
