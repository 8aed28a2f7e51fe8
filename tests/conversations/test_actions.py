"""Move, split and merge: each is in the event log and undoing it loses nothing."""

from __future__ import annotations

from typing import Any

import pytest

from earful.conversations.actions import (
    ConversationActionError,
    merge_conversations,
    move_message,
    split_conversation,
    undo,
)
from earful.conversations.models import Conversation, JoinRule, Message, Status
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record


@pytest.fixture
def two_threads(channel: Any) -> tuple[Conversation, Conversation]:
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "a1", "first", author={"external_id": "ann"}, created_at="2026-11-01T10:00:00Z"
                ),
                record(
                    "a2",
                    "second",
                    author={"external_id": "ann"},
                    in_reply_to="a1",
                    created_at="2026-11-01T11:00:00Z",
                ),
                record(
                    "a3",
                    "third",
                    author={"external_id": "ann"},
                    in_reply_to="a2",
                    created_at="2026-11-01T12:00:00Z",
                ),
                record(
                    "b1", "other", author={"external_id": "ben"}, created_at="2026-11-01T10:30:00Z"
                ),
            ]
        ),
    )
    a = Message.objects.get(external_id="a1").conversation
    b = Message.objects.get(external_id="b1").conversation
    assert a is not None and b is not None
    return a, b


def _state() -> dict[str, Any]:
    return {
        "messages": sorted(
            Message.objects.values_list("external_id", "conversation_id", "join_rule", "parent_id")
        ),
        "conversations": sorted(
            Conversation.objects.exclude(status=Status.MERGED).values_list(
                "pk", "status", "started_at", "last_message_at"
            )
        ),
    }


def test_moving_a_message_and_undoing_it(two_threads: Any, owner: Any) -> None:
    _, b = two_threads
    before = _state()

    event = move_message(Message.objects.get(external_id="a3"), b, by=owner)

    moved = Message.objects.get(external_id="a3")
    assert moved.conversation == b and moved.join_rule == JoinRule.AGENT
    assert event.verb == "conversation.message_moved" and event.actor == owner
    undo(event, by=owner)
    assert _state() == before


def test_splitting_and_undoing(two_threads: Any, owner: Any) -> None:
    a, _ = two_threads
    before = _state()

    event = split_conversation(a, Message.objects.get(external_id="a2"), by=owner)

    new = Message.objects.get(external_id="a2").conversation
    assert new is not None and new != a
    assert set(new.messages.values_list("external_id", flat=True)) == {"a2", "a3"}
    assert list(a.messages.values_list("external_id", flat=True)) == ["a1"]
    undo(event, by=owner)
    assert _state() == before
    new.refresh_from_db()
    assert new.status == Status.MERGED and new.merged_into == a


def test_merging_and_undoing(two_threads: Any, owner: Any) -> None:
    a, b = two_threads
    before = _state()

    event = merge_conversations(b, a, by=owner)

    b.refresh_from_db()
    assert b.status == Status.MERGED and b.merged_into == a
    assert a.messages.count() == 4
    undo(event, by=owner)
    assert _state() == before
    with pytest.raises(ConversationActionError, match="already undone"):
        undo(event, by=owner)


def test_it_refuses_what_makes_no_sense(two_threads: Any, other_org: Any, owner: Any) -> None:
    a, _ = two_threads
    first = Message.objects.get(external_id="a1")
    foreign = Conversation.objects.create(
        organization=other_org,
        number=1,
        started_at=first.created_at,
        last_message_at=first.created_at,
    )

    with pytest.raises(ConversationActionError, match="another organization"):
        move_message(first, foreign, by=owner)
    with pytest.raises(ConversationActionError, match="already in that conversation"):
        move_message(first, a, by=owner)
    with pytest.raises(ConversationActionError, match="leave nothing behind"):
        split_conversation(a, first, by=owner)
    with pytest.raises(ConversationActionError, match="into itself"):
        merge_conversations(a, a, by=owner)
