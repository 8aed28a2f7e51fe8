"""Full-text search finds words in message text, per organization, whatever is typed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from earful.channels.services import get_or_create_channel
from earful.conversations.models import Message
from earful.conversations.queries import list_messages
from earful.conversations.search import fts5_query, newest_matches
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record


@pytest.fixture
def searchable(channel: Any) -> Any:
    ingest_batch(
        channel,
        numbered(
            [
                record("1", "My baggage never arrived in Lisbon"),
                record("2", "Refund for the cancelled flight please"),
                record("3", "Café au lait was great on board"),
            ]
        ),
    )
    return channel.organization


def _found(organization: Any, text: str) -> set[str]:
    return set(list_messages(organization, text=text).values_list("external_id", flat=True))


def test_it_finds_messages_by_word(searchable: Any) -> None:
    assert _found(searchable, "baggage") == {"1"}
    assert _found(searchable, "cancelled flight") == {"2"}


def test_it_finds_words_case_insensitively(searchable: Any) -> None:
    assert _found(searchable, "LISBON") == {"1"}


def test_it_survives_hostile_queries(searchable: Any) -> None:
    for text in ['"', "NEAR(", "' OR 1=1 --", "*", "baggage)", "a AND OR NOT", "\\"]:
        list(list_messages(searchable, text=text))


def test_it_never_returns_another_organizations_messages(searchable: Any, other_org: Any) -> None:
    rival = get_or_create_channel(other_org, name="X", kind="x")
    ingest_batch(rival, numbered([record("9", "baggage lost again")]))

    assert _found(searchable, "baggage") == {"1"}
    assert _found(other_org, "baggage") == {"9"}


def test_an_fts5_query_quotes_every_word() -> None:
    assert fts5_query('lost "bag" OR') == '"lost" AND "bag" AND "OR"*'
    assert fts5_query("?!") == ""


def test_search_keeps_the_newest_matches_of_the_organization(
    searchable: Any, channel: Any, other_org: Any
) -> None:
    ingest_batch(channel, numbered([record("4", "baggage again"), record("5", "baggage, third")]))
    rival = get_or_create_channel(other_org, name="X", kind="x")
    ingest_batch(rival, numbered([record(f"r{n}", "baggage elsewhere") for n in range(3)]))
    ours = Message.objects.filter(organization=searchable)

    newest = newest_matches(ours, searchable.pk, "baggage", limit=2)

    assert set(newest.values_list("external_id", flat=True)) == {"4", "5"}
    assert newest_matches(ours, searchable.pk, "?!").count() == 0


def test_a_whole_word_with_enough_matches_is_not_also_read_as_a_prefix(
    searchable: Any, channel: Any
) -> None:
    ingest_batch(channel, numbered([record("6", "lost bag"), record("7", "bagpipes please")]))
    ours = Message.objects.filter(organization=searchable)

    newest = newest_matches(ours, searchable.pk, "bag", limit=1)

    assert list(newest.values_list("external_id", flat=True)) == ["6"]


def test_the_last_word_is_a_prefix_when_whole_words_match_too_few(
    searchable: Any, channel: Any
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's websearch queries match whole words only")
    ingest_batch(channel, numbered([record("6", "lost bag"), record("7", "bagpipes please")]))
    ours = Message.objects.filter(organization=searchable)

    newest = newest_matches(ours, searchable.pk, "bag", limit=5)

    assert set(newest.values_list("external_id", flat=True)) == {"1", "6", "7"}
