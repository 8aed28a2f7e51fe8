"""Ingest: raw first, idempotent, bad records refused with their number and the rest stored."""

from __future__ import annotations

from typing import Any

import pytest

from earful.channels.models import RawMessage
from earful.conversations.models import Conversation, Message
from earful.customers.models import Identity
from earful.org.models import Event
from earful.pipeline.ingest import ingest_batch, process_pending, store_raw
from tests.helpers import numbered, record


def test_it_stores_raw_then_messages(channel: Any) -> None:
    report = ingest_batch(channel, numbered([record("1"), record("2", "second")]))

    assert (report.stored, report.duplicates, report.processed) == (2, 0, 2)
    assert RawMessage.objects.filter(channel=channel, processed_at__isnull=False).count() == 2
    texts = set(Message.objects.filter(channel=channel).values_list("text", flat=True))
    assert texts == {"hello", "second"}


def test_it_changes_nothing_when_the_same_batch_comes_twice(channel: Any) -> None:
    batch = numbered([record("1"), record("2", in_reply_to="1")])
    ingest_batch(channel, batch)
    counts = (Message.objects.count(), Conversation.objects.count(), Identity.objects.count())

    again = ingest_batch(channel, batch)

    assert (again.stored, again.duplicates, again.processed) == (0, 2, 0)
    assert (
        Message.objects.count(),
        Conversation.objects.count(),
        Identity.objects.count(),
    ) == counts


def test_it_counts_a_repeat_inside_one_batch_as_a_duplicate(channel: Any) -> None:
    report = ingest_batch(channel, numbered([record("1"), record("1")]))

    assert (report.stored, report.duplicates) == (1, 1)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (record("b1", text=""), "text String should have at least 1 character"),
        (record("b2", text="x" * 1_048_576), "text is too long (limit 100,000 characters)"),
        (
            record("b3", created_at="yesterday-ish"),
            "created_at Input should be a valid datetime or date, invalid character in year",
        ),
        (record("b4", text=12345), "text Input should be a valid string"),
        (record("b5", text="caf\udce9 au lait"), "text is not valid UTF-8"),
        (record("b6", text="nul\x00byte"), "text contains a NUL character"),
        ({"text": "no id", "created_at": "2026-11-01T10:00:00Z"}, "external_id Field required"),
        (record("b8", direction="sideways"), "direction Input should be 'in' or 'out'"),
        (record("b9", url="javascript:alert(1)"), "url Value error, must be an http(s) URL"),
        (record("b10", author={"handle": "no id"}), "author.external_id Field required"),
    ],
)
def test_it_refuses_a_bad_record_with_its_number_and_keeps_the_rest(
    channel: Any, bad: dict[str, Any], reason: str
) -> None:
    report = ingest_batch(channel, numbered([record("ok-1"), bad, record("ok-2")]))

    assert [(r.record_number, r.reason) for r in report.rejections] == [(2, reason)]
    assert set(Message.objects.values_list("external_id", flat=True)) == {"ok-1", "ok-2"}


def test_a_crash_after_storing_raw_loses_nothing(channel: Any) -> None:
    store_raw(channel, numbered([record("1"), record("2")]))
    assert Message.objects.count() == 0

    assert process_pending(channel) == 2
    assert Message.objects.count() == 2


def test_it_triages_what_customers_write_but_not_our_replies(channel: Any) -> None:
    ingest_batch(
        channel,
        numbered(
            [
                record("1", "My flight was cancelled and nobody answers. Awful service."),
                record(
                    "2",
                    "Sorry to hear that, please DM us.",
                    direction="out",
                    in_reply_to="1",
                    author={"external_id": "acme", "handle": "acme"},
                ),
            ]
        ),
    )

    inbound = Message.objects.get(external_id="1")
    outbound = Message.objects.get(external_id="2")
    assert inbound.sentiment in {"negative", "neutral", "positive"}
    assert inbound.triage_model
    assert set(inbound.sentiment_scores or {}) == {"negative", "neutral", "positive"}
    assert outbound.sentiment == "" and outbound.identity is None


def test_it_creates_one_identity_per_author_and_refreshes_its_audience(channel: Any) -> None:
    author = {"external_id": "u1", "handle": "ann", "audience_size": 10}
    ingest_batch(channel, numbered([record("1", author=author)]))
    ingest_batch(channel, numbered([record("2", author={**author, "audience_size": 99})]))

    identity = Identity.objects.get()
    assert identity.audience_size == 99
    assert Message.objects.filter(identity=identity).count() == 2


def test_it_writes_an_event_per_processed_chunk(channel: Any) -> None:
    ingest_batch(channel, numbered([record("1"), record("2", author={"external_id": "cust-2"})]))

    event = Event.objects.get(verb="messages.ingested")
    assert event.after == {"messages": 2, "conversations": 2}


def test_a_blocked_author_or_pattern_is_never_stored(channel: Any) -> None:
    from earful.channels.blocking import add_block_rule

    add_block_rule(channel.organization, identity="@troll", reason="abuse")
    add_block_rule(channel.organization, pattern="cheap pills*now", reason="spam")

    report = ingest_batch(
        channel,
        numbered(
            [
                record("1", "hello", author={"external_id": "t1", "handle": "troll"}),
                record("2", "CHEAP PILLS, buy now"),
                record("3", "my bill is wrong"),
            ]
        ),
    )

    assert (report.blocked, report.stored) == (2, 1)
    assert list(RawMessage.objects.values_list("external_id", flat=True)) == ["3"]
