"""Conversation actions over the API call the same services and can be undone the same way."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from earful.conversations.models import Conversation, Message, Status
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record


@pytest.fixture
def member(channel: Any, owner: Any, client: Client) -> Client:
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "1",
                    "router broken",
                    author={"external_id": "a"},
                    created_at="2026-11-01T10:00:00Z",
                ),
                record(
                    "2",
                    "still broken",
                    author={"external_id": "a"},
                    in_reply_to="1",
                    created_at="2026-11-01T11:00:00Z",
                ),
                record(
                    "3",
                    "bill wrong",
                    author={"external_id": "b"},
                    created_at="2026-11-01T10:30:00Z",
                ),
            ]
        ),
    )
    client.force_login(owner)
    return client


def test_it_shows_a_conversation_with_why_each_message_is_there(member: Client) -> None:
    body = member.get("/api/v1/orgs/acme/conversations/1").json()

    assert [m["text"] for m in body["messages"]] == ["router broken", "still broken"]
    assert [m["join_rule"] for m in body["messages"]] == ["new", "reply"]
    assert body["channels"] == ["X"]


def test_merge_then_undo_through_the_api(member: Client) -> None:
    merged = member.post("/api/v1/orgs/acme/conversations/2/merge-into/1")

    assert merged.status_code == 200
    assert Conversation.objects.get(number=2).status == Status.MERGED
    undone = member.post(f"/api/v1/orgs/acme/events/{merged.json()['code']}/undo")
    assert undone.status_code == 200
    assert Conversation.objects.get(number=2).status != Status.MERGED
    again = member.post(f"/api/v1/orgs/acme/events/{merged.json()['code']}/undo")
    assert again.status_code == 400
    assert again.json() == {"detail": "this action was already undone"}


def test_split_and_move_through_the_api(member: Client) -> None:
    second = Message.objects.get(external_id="2")

    split = member.post(f"/api/v1/orgs/acme/conversations/1/split-at/{second.code}")
    moved = member.post(f"/api/v1/orgs/acme/messages/{second.code}/move-to/1")

    assert (split.status_code, moved.status_code) == (200, 200)
    assert Message.objects.get(external_id="2").conversation == Conversation.objects.get(number=1)


def test_a_refused_action_says_why(member: Client) -> None:
    response = member.post("/api/v1/orgs/acme/conversations/1/merge-into/1")

    assert response.status_code == 400
    assert response.json() == {"detail": "a conversation cannot be merged into itself"}
