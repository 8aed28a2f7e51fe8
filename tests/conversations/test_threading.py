"""Threading: replies join what they answer, whatever order they arrive in."""

from __future__ import annotations

from typing import Any

from earful.conversations.models import Conversation, Message, Status
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record

BRAND = {"external_id": "acme", "handle": "acme"}


def _reply(external_id: str, to: str, at: str) -> dict[str, Any]:
    return record(
        external_id, "We are on it", direction="out", in_reply_to=to, author=BRAND, created_at=at
    )


def test_a_reply_joins_the_conversation_of_its_parent(channel: Any) -> None:
    ingest_batch(channel, numbered([record("1", created_at="2026-11-01T10:00:00Z")]))
    ingest_batch(channel, numbered([_reply("2", to="1", at="2026-11-01T10:30:00Z")]))

    first, reply = Message.objects.get(external_id="1"), Message.objects.get(external_id="2")
    assert reply.parent == first
    assert reply.conversation == first.conversation
    conversation = Conversation.objects.get()
    assert conversation.first_response_at == reply.created_at
    assert conversation.waiting_since is None
    assert conversation.status == Status.PENDING


def test_a_parent_arriving_after_its_reply_adopts_it(channel: Any) -> None:
    ingest_batch(channel, numbered([_reply("2", to="1", at="2026-11-01T10:30:00Z")]))
    ingest_batch(channel, numbered([record("1", created_at="2026-11-01T10:00:00Z")]))

    reply = Message.objects.get(external_id="2")
    assert reply.parent is not None and reply.parent.external_id == "1"
    live = Conversation.objects.exclude(status=Status.MERGED)
    assert live.count() == 1
    assert set(live.get().messages.values_list("external_id", flat=True)) == {"1", "2"}


def test_a_message_linking_two_threads_merges_them_into_the_older(channel: Any) -> None:
    ingest_batch(
        channel,
        numbered(
            [
                record("1", created_at="2026-11-01T10:00:00Z"),
                record(
                    "3",
                    created_at="2026-11-01T11:00:00Z",
                    in_reply_to="2",
                    author={"external_id": "someone-else"},
                ),
            ]
        ),
    )
    older = Message.objects.get(external_id="1").conversation
    assert older is not None

    ingest_batch(channel, numbered([_reply("2", to="1", at="2026-11-01T10:30:00Z")]))

    assert set(Message.objects.values_list("conversation", flat=True)) == {older.pk}
    merged = Conversation.objects.get(status=Status.MERGED)
    assert merged.merged_into == older


def test_the_customer_waits_from_the_first_message_after_our_last_reply(channel: Any) -> None:
    ingest_batch(
        channel,
        numbered(
            [
                record("1", created_at="2026-11-01T10:00:00Z"),
                _reply("2", to="1", at="2026-11-01T10:30:00Z"),
                record("3", created_at="2026-11-01T11:00:00Z", in_reply_to="2"),
                record("4", created_at="2026-11-01T11:05:00Z", in_reply_to="3"),
            ]
        ),
    )

    conversation = Conversation.objects.get()
    assert conversation.status == Status.OPEN
    assert conversation.waiting_since is not None
    assert conversation.waiting_since.isoformat() == "2026-11-01T11:00:00+00:00"
    assert conversation.last_message_at.isoformat() == "2026-11-01T11:05:00+00:00"


def test_conversations_are_numbered_per_organization(channel: Any, other_org: Any) -> None:
    from earful.channels.services import get_or_create_channel

    ingest_batch(channel, numbered([record("1"), record("2", author={"external_id": "cust-2"})]))
    rival = get_or_create_channel(other_org, name="X", kind="x")
    ingest_batch(rival, numbered([record("1")]))

    assert sorted(
        Conversation.objects.filter(organization=channel.organization).values_list(
            "number", flat=True
        )
    ) == [1, 2]
    assert list(
        Conversation.objects.filter(organization=other_org).values_list("number", flat=True)
    ) == [1]


def test_a_message_claiming_to_answer_itself_stays_unlinked(channel: Any) -> None:
    ingest_batch(channel, numbered([record("1", in_reply_to="1")]))

    assert Message.objects.get().parent is None


def _parents() -> dict[str, str | None]:
    return dict(Message.objects.values_list("external_id", "parent__external_id"))


def test_a_reply_chain_in_one_batch_links_every_reply_to_its_parent(channel: Any) -> None:
    chain_backwards = [
        record("4", created_at="2026-11-01T11:05:00Z", in_reply_to="3"),
        _reply("2", to="1", at="2026-11-01T10:30:00Z"),
        record("3", created_at="2026-11-01T11:00:00Z", in_reply_to="2"),
        record("1", created_at="2026-11-01T10:00:00Z"),
    ]

    ingest_batch(channel, numbered(chain_backwards))

    assert _parents() == {"1": None, "2": "1", "3": "2", "4": "3"}
    conversation = Conversation.objects.get()
    assert conversation.started_at.isoformat() == "2026-11-01T10:00:00+00:00"
    assert conversation.first_response_at is not None


def test_two_messages_claiming_to_answer_each_other_are_both_stored(channel: Any) -> None:
    loop = [
        record("1", in_reply_to="2"),
        record("2", in_reply_to="1"),
        record("3", in_reply_to="2"),
    ]

    ingest_batch(channel, numbered(loop))

    assert _parents() == {"1": "2", "2": "1", "3": "2"}
    assert Conversation.objects.count() == 1
