"""A message that cannot be processed waits in the dead letters and never blocks the rest."""

from __future__ import annotations

from typing import Any

from earful.channels.models import RawMessage
from earful.conversations.models import Message
from earful.org.models import Event
from earful.pipeline.dead_letters import dead_letters, retry_dead_letters
from earful.pipeline.ingest import process_pending, process_raws, store_raw
from tests.helpers import numbered, record


def _poisoned(channel: Any, external_id: str) -> RawMessage:
    """A stored raw message an older release wrote in a shape this one cannot read."""
    return RawMessage.objects.create(
        organization=channel.organization,
        channel=channel,
        external_id=external_id,
        payload={"external_id": external_id, "text": 42, "created_at": "yesterday-ish"},
    )


def test_a_poisoned_message_goes_to_the_dead_letters_and_the_rest_are_processed(
    channel: Any,
) -> None:
    store_raw(channel, numbered([record("1", "late parcel")]))
    poison = _poisoned(channel, "2")
    store_raw(channel, numbered([record("3", "wrong bill")]))

    assert process_pending(channel) == 2

    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["1", "3"]
    poison.refresh_from_db()
    assert poison.dead_at is not None
    assert poison.processed_at is None
    assert "not valid" in poison.error
    assert list(dead_letters(channel.organization)) == [poison]


def test_the_dead_letters_are_not_retried_by_every_pass(channel: Any) -> None:
    _poisoned(channel, "2")
    process_pending(channel)

    assert process_pending(channel) == 0
    assert dead_letters(channel.organization).count() == 1


def test_a_redelivered_batch_changes_nothing(channel: Any) -> None:
    report = store_raw(channel, numbered([record("1"), record("2", in_reply_to="1")]))
    assert process_raws(report.stored_ids) == 2
    before = list(Message.objects.values_list("pk", "conversation_id", "parent_id"))

    assert process_raws(report.stored_ids) == 0
    assert list(Message.objects.values_list("pk", "conversation_id", "parent_id")) == before


def test_retrying_puts_a_fixed_message_back_through_the_pipeline(channel: Any, owner: Any) -> None:
    poison = _poisoned(channel, "2")
    process_pending(channel)
    # The cause is fixed (here: the stored payload is readable again), then a manager retries.
    RawMessage.objects.filter(pk=poison.pk).update(payload=record("2", "now readable"))

    assert retry_dead_letters(channel.organization, by=owner) == 1

    assert Message.objects.get().text == "now readable"
    assert not dead_letters(channel.organization).exists()
    assert Event.objects.filter(verb="dead_letters.retried", actor=owner).exists()


def test_a_message_that_fails_again_goes_back_with_its_new_error(channel: Any) -> None:
    _poisoned(channel, "2")
    process_pending(channel)

    assert retry_dead_letters(channel.organization) == 1

    assert dead_letters(channel.organization).count() == 1
    assert not Message.objects.exists()
