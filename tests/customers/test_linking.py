"""Identity linking: certain evidence merges customers, probable evidence only suggests."""

from __future__ import annotations

from typing import Any

import pytest

from earful.channels.services import get_or_create_channel
from earful.customers.linking import create_link_request, decide_suggestion
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
