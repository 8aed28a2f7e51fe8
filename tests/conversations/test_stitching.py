"""Stitching: a message on another channel joins the conversation the evidence points to."""

from __future__ import annotations

from typing import Any

import pytest

from earful.channels.services import get_or_create_channel
from earful.conversations.models import Conversation, JoinRule, Message
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record

ANN_X = {"external_id": "ann-x", "handle": "ann", "verified_email": "ann@example.org"}
ANN_MAIL = {"external_id": "ann@example.org"}
BEN_X = {"external_id": "ben-x", "handle": "ben"}


@pytest.fixture
def email(org: Any) -> Any:
    return get_or_create_channel(org, name="Email", kind="email")


def _write(channel: Any, external_id: str, text: str, author: dict[str, Any], at: str) -> None:
    """One customer message arriving on a channel at a given time."""
    ingest_batch(channel, numbered([record(external_id, text, author=author, created_at=at)]))


def _joined(external_id: str) -> tuple[str, float, int]:
    message = Message.objects.get(external_id=external_id)
    assert message.conversation is not None
    return message.join_rule, message.join_confidence, message.conversation.number


def test_a_quoted_case_reference_joins_its_conversation(channel: Any, email: Any) -> None:
    channel.organization.case_prefix = "ER"
    channel.organization.save()
    ingest_batch(channel, numbered([record("t1", "my router is dead", author=ANN_X)]))
    number = Conversation.objects.get().number

    ingest_batch(
        email, numbered([record("e1", f"Re: case #ER-{number}, still dead", author=BEN_X)])
    )

    assert _joined("e1") == (JoinRule.REFERENCE, 0.99, number)


def test_a_link_to_a_stored_post_joins_its_conversation(channel: Any, email: Any) -> None:
    ingest_batch(
        channel,
        numbered([record("t1", "router dead", url="https://x.example/ann/status/1", author=ANN_X)]),
    )

    ingest_batch(
        email,
        numbered([record("e1", "See https://x.example/ann/status/1/ for details", author=BEN_X)]),
    )

    assert _joined("e1")[:2] == (JoinRule.LINK, 0.95)
    assert Conversation.objects.count() == 1


def test_the_same_customer_on_the_same_subject_joins(channel: Any, email: Any) -> None:
    _write(channel, "t1", "Router keeps dropping wifi every evening", ANN_X, "2026-11-01T10:00:00Z")
    _write(email, "e1", "The router dropping wifi again tonight", ANN_MAIL, "2026-11-01T20:00:00Z")

    assert _joined("e1")[:2] == (JoinRule.SAME_SUBJECT, 0.9)


def test_another_customer_on_the_same_subject_does_not_join(channel: Any, email: Any) -> None:
    ingest_batch(channel, numbered([record("t1", "Router keeps dropping wifi", author=ANN_X)]))
    ingest_batch(email, numbered([record("e1", "Router keeps dropping wifi", author=BEN_X)]))

    assert Conversation.objects.count() == 2
    assert _joined("e1")[0] == JoinRule.NEW


def test_the_same_customer_after_the_stitch_window_starts_anew(channel: Any, email: Any) -> None:
    _write(channel, "t1", "Router keeps dropping wifi", ANN_X, "2026-11-01T10:00:00Z")
    _write(email, "e1", "Router keeps dropping wifi", ANN_MAIL, "2026-11-09T10:00:00Z")

    assert Conversation.objects.count() == 2


def test_a_reply_after_a_quiet_gap_starts_a_conversation_that_follows(channel: Any) -> None:
    ingest_batch(channel, numbered([record("1", created_at="2026-10-01T10:00:00Z")]))
    ingest_batch(
        channel,
        numbered([record("2", "back again", in_reply_to="1", created_at="2026-11-01T10:00:00Z")]),
    )

    old = Message.objects.get(external_id="1").conversation
    new = Message.objects.get(external_id="2").conversation
    assert old is not None and new is not None
    assert new != old and new.follows == old
    assert Message.objects.get(external_id="2").parent is not None


def test_messages_in_one_batch_stitch_to_each_other(channel: Any, email: Any) -> None:
    _write(channel, "t1", "Invoice charged twice", ANN_X, "2026-11-01T10:00:00Z")
    ingest_batch(
        email,
        numbered(
            [
                record("e0", "Hello", author=BEN_X, created_at="2026-11-01T09:00:00Z"),
                record(
                    "e1",
                    "Charged twice on the invoice",
                    author=ANN_MAIL,
                    created_at="2026-11-01T11:00:00Z",
                ),
            ]
        ),
    )

    assert _joined("e1")[0] == JoinRule.SAME_SUBJECT
    assert (
        Message.objects.get(external_id="t1").conversation_id
        == Message.objects.get(external_id="e1").conversation_id
    )


def test_our_own_posts_are_never_stitched(channel: Any) -> None:
    ingest_batch(channel, numbered([record("1", "Outage in Leeds", author=ANN_X)]))
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "2",
                    "Outage in Leeds is fixed",
                    direction="out",
                    author={"external_id": "brand"},
                )
            ]
        ),
    )

    assert Conversation.objects.count() == 2


def test_a_chaser_from_the_same_customer_joins_the_open_conversation(
    channel: Any, email: Any
) -> None:
    _write(channel, "t1", "Router keeps dropping wifi", ANN_X, "2026-11-01T10:00:00Z")
    _write(email, "e1", "any news??", ANN_MAIL, "2026-11-01T16:00:00Z")

    assert _joined("e1")[:2] == (JoinRule.SAME_CUSTOMER, 0.7)


def test_a_new_subject_from_the_same_customer_starts_a_conversation(
    channel: Any, email: Any
) -> None:
    _write(channel, "t1", "Router keeps dropping wifi", ANN_X, "2026-11-01T10:00:00Z")
    _write(
        email,
        "e1",
        "Separate thing: my invoice shows a double charge",
        ANN_MAIL,
        "2026-11-01T16:00:00Z",
    )

    assert _joined("e1")[0] == JoinRule.NEW
    assert Conversation.objects.count() == 2
