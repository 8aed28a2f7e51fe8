"""Identity linking: certain evidence merges customers, probable evidence only suggests."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from earful.channels.services import get_or_create_channel
from earful.customers.linking import (
    SAME_NAME_MAX_HOLDERS,
    create_link_request,
    decide_suggestion,
)
from earful.customers.models import Customer, Identity, LinkKind, LinkSuggestion
from earful.org.models import Event
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record


@pytest.fixture
def mastodon(org: Any) -> Any:
    return get_or_create_channel(org, name="Mastodon", kind="mastodon")


@pytest.fixture
def email(org: Any) -> Any:
    return get_or_create_channel(org, name="Email", kind="email")


def _customer_of(external_id: str) -> Customer:
    return Identity.objects.get(external_id=external_id).customer


def _live_customers() -> int:
    return Customer.objects.filter(merged_into__isnull=True).count()


def test_the_same_verified_email_joins_two_identities(channel: Any, email: Any) -> None:
    ingest_batch(
        channel,
        numbered(
            [record("1", author={"external_id": "x-ann", "verified_email": "Ann@Example.org"})]
        ),
    )
    ingest_batch(email, numbered([record("2", author={"external_id": "ann@example.org"})]))

    assert _customer_of("x-ann") == _customer_of("ann@example.org")
    assert _live_customers() == 1
    assert Event.objects.filter(verb="customer.merged").count() == 1


def test_a_profile_listing_another_account_joins_them(channel: Any, mastodon: Any) -> None:
    ingest_batch(
        mastodon,
        numbered(
            [
                record(
                    "1",
                    author={
                        "external_id": "109",
                        "handle": "ann@mastodon.example",
                        "profile_url": "https://mastodon.example/@ann",
                    },
                )
            ]
        ),
    )
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "2",
                    author={
                        "external_id": "x-ann",
                        "handle": "ann",
                        "profile_links": ["https://mastodon.example/@ann/"],
                    },
                )
            ]
        ),
    )

    assert _customer_of("109") == _customer_of("x-ann")


def test_a_listing_seen_before_the_listed_account_still_joins(channel: Any, mastodon: Any) -> None:
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "1", author={"external_id": "x-ann", "profile_links": ["@ann@mastodon.example"]}
                )
            ]
        ),
    )
    ingest_batch(
        mastodon,
        numbered([record("2", author={"external_id": "109", "handle": "ann@mastodon.example"})]),
    )

    assert _customer_of("109") == _customer_of("x-ann")


def test_a_bare_handle_on_another_network_proves_nothing(channel: Any, mastodon: Any) -> None:
    ingest_batch(mastodon, numbered([record("1", author={"external_id": "109", "handle": "ann"})]))
    ingest_batch(
        channel, numbered([record("2", author={"external_id": "x-ann", "profile_links": ["ann"]})])
    )

    assert _customer_of("109") != _customer_of("x-ann")


def test_answering_a_link_request_from_another_account_joins(channel: Any, email: Any) -> None:
    ingest_batch(channel, numbered([record("1", author={"external_id": "x-ann"})]))
    request = create_link_request(_customer_of("x-ann"))

    ingest_batch(
        email,
        numbered(
            [
                record(
                    "2",
                    f"Yes that's me: link-{request.token}",
                    author={"external_id": "ann@example.org"},
                )
            ]
        ),
    )

    assert _customer_of("x-ann") == _customer_of("ann@example.org")
    request.refresh_from_db()
    assert request.answered_at is not None


def test_the_same_name_is_only_a_suggestion(channel: Any, mastodon: Any) -> None:
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "1",
                    "Loving the new app, great job folks!",
                    author={"external_id": "x1", "display_name": "Sam Reed"},
                )
            ]
        ),
    )
    ingest_batch(
        mastodon,
        numbered(
            [
                record(
                    "2",
                    "Loving the new app, great job!",
                    author={"external_id": "m1", "display_name": "sam reed"},
                )
            ]
        ),
    )

    assert _customer_of("x1") != _customer_of("m1")
    suggestion = LinkSuggestion.objects.get()
    assert suggestion.rule == "same_name"
    assert suggestion.score > 0.5


def test_the_same_phone_written_in_messages_is_a_suggestion(channel: Any, email: Any) -> None:
    ingest_batch(
        channel, numbered([record("1", "call me on +44 7700 900123", author={"external_id": "x1"})])
    )
    ingest_batch(
        email,
        numbered([record("2", "My number is 07700 900123", author={"external_id": "a@b.example"})]),
    )

    suggestion = LinkSuggestion.objects.get()
    assert (suggestion.rule, suggestion.score) == ("same_phone", 0.8)


def test_confirming_a_suggestion_merges_and_rejecting_keeps_apart(
    channel: Any, mastodon: Any, owner: Any
) -> None:
    ingest_batch(
        channel, numbered([record("1", author={"external_id": "x1", "display_name": "Sam Reed"})])
    )
    ingest_batch(
        mastodon, numbered([record("2", author={"external_id": "m1", "display_name": "Sam Reed"})])
    )
    suggestion = LinkSuggestion.objects.get()

    merge = decide_suggestion(suggestion, confirm=True, by=owner)

    assert merge is not None and merge.rule == LinkKind.AGENT and merge.by == owner
    assert _customer_of("x1") == _customer_of("m1")
    with pytest.raises(ValueError, match="already decided"):
        decide_suggestion(suggestion, confirm=False, by=owner)


def test_an_identity_matching_two_accounts_of_one_customer_merges_once(
    channel: Any, mastodon: Any, email: Any
) -> None:
    ingest_batch(email, numbered([record("1", author={"external_id": "ann@example.org"})]))
    ingest_batch(
        mastodon,
        numbered(
            [
                record(
                    "2",
                    author={
                        "external_id": "109",
                        "profile_url": "https://m.example/@ann",
                        "verified_email": "ann@example.org",
                    },
                )
            ]
        ),
    )
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "3",
                    author={
                        "external_id": "x-ann",
                        "verified_email": "ann@example.org",
                        "profile_links": ["https://m.example/@ann"],
                    },
                )
            ]
        ),
    )

    assert _live_customers() == 1
    assert Event.objects.filter(verb="customer.merged").count() == 2


def test_a_name_many_customers_share_is_no_evidence(channel: Any) -> None:
    holders = SAME_NAME_MAX_HOLDERS + 1
    ingest_batch(
        channel,
        numbered(
            [
                record(f"{n}", author={"external_id": f"x{n}", "display_name": "Sam Reed"})
                for n in range(holders)
            ]
        ),
    )

    assert _live_customers() == holders
    assert not LinkSuggestion.objects.exists()


def test_every_pair_sharing_a_rare_name_in_one_batch_is_suggested_once(channel: Any) -> None:
    ingest_batch(
        channel,
        numbered(
            [
                record(f"{n}", author={"external_id": f"x{n}", "display_name": "Sam Reed"})
                for n in range(3)
            ]
        ),
    )
    ingest_batch(
        channel, numbered([record("again", author={"external_id": "x0", "display_name": "Sam"})])
    )

    pairs = LinkSuggestion.objects.values_list("first_id", "second_id")
    assert len(pairs) == 3 == len(set(pairs))
    events = Event.objects.filter(verb="customer.link_suggested")
    assert {e.target_id for e in events} == {str(s.code) for s in LinkSuggestion.objects.all()}
    assert {e.target_type for e in events} == {"customers.linksuggestion"}


def test_evidence_found_within_one_batch_links_as_across_batches(
    channel: Any, mastodon: Any
) -> None:
    ingest_batch(
        mastodon,
        numbered(
            [
                record("1", author={"external_id": "109", "handle": "ann@mastodon.example"}),
                record("2", "text me on 07700 900123", author={"external_id": "110"}),
            ]
        ),
    )
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "3", author={"external_id": "x-ann", "profile_links": ["@ann@mastodon.example"]}
                ),
                record("4", author={"external_id": "x-bo", "verified_email": "bo@example.org"}),
                record("5", author={"external_id": "x-bo2", "verified_email": "bo@example.org"}),
                record("6", "my number: +44 7700 900123", author={"external_id": "x-cy"}),
            ]
        ),
    )

    assert _customer_of("109") == _customer_of("x-ann")
    assert _customer_of("x-bo") == _customer_of("x-bo2")
    assert LinkSuggestion.objects.get().rule == "same_phone"
    assert _live_customers() == 4


def _reads_to_ingest(channel: Any, start: int, authors: int) -> int:
    batch = numbered(
        [
            record(
                f"m{n}",
                f"call me on 0770 090 {n:04d} about {n}",
                author={
                    "external_id": f"a{n}",
                    "display_name": f"Person Number{n}",
                    "verified_email": f"p{n}@example.org",
                    "profile_links": [f"https://m.example/@p{n}"],
                },
            )
            for n in range(start, start + authors)
        ]
    )
    with CaptureQueriesContext(connection) as queries:
        ingest_batch(channel, batch)
    # Inserts are split by the database's limit on parameters; reads must not grow at all.
    return sum(1 for query in queries if query["sql"].startswith("SELECT"))


def test_a_batch_reads_the_same_number_of_times_whatever_its_size(channel: Any) -> None:
    small = _reads_to_ingest(channel, 0, 3)
    large = _reads_to_ingest(channel, 100, 60)

    assert large == small
