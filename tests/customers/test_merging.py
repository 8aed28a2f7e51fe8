"""Merge and unmerge: a round trip loses no identity, conversation, message or event."""

from __future__ import annotations

from typing import Any

import pytest

from earful.conversations.models import Conversation, Message
from earful.customers.merging import MergeError, merge_customers, unmerge_customers
from earful.customers.models import Customer, Identity, LinkKind
from earful.org.models import Event
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record


@pytest.fixture
def two_customers(channel: Any) -> tuple[Customer, Customer]:
    ingest_batch(
        channel,
        numbered(
            [
                record("1", "one", author={"external_id": "a"}),
                record("2", "two", author={"external_id": "b"}),
                record(
                    "3", "three", author={"external_id": "b"}, created_at="2026-11-20T10:00:00Z"
                ),
            ]
        ),
    )
    return (
        Identity.objects.get(external_id="a").customer,
        Identity.objects.get(external_id="b").customer,
    )


def _snapshot() -> dict[str, Any]:
    return {
        "identities": dict(Identity.objects.values_list("external_id", "customer_id")),
        "conversations": dict(Conversation.objects.values_list("number", "customer_id")),
        "messages": sorted(
            Message.objects.values_list("external_id", "conversation_id", "identity_id")
        ),
    }


def test_merge_moves_identities_and_conversations(two_customers: Any, owner: Any) -> None:
    a, b = two_customers

    merge = merge_customers(b, a, rule=LinkKind.AGENT, reason="same person", by=owner)

    assert set(Identity.objects.values_list("customer_id", flat=True)) == {a.pk}
    assert set(Conversation.objects.values_list("customer_id", flat=True)) == {a.pk}
    b.refresh_from_db()
    assert b.merged_into == a
    assert Event.objects.get(verb="customer.merged").actor == owner
    assert merge.moved_identities == [Identity.objects.get(external_id="b").pk]


def test_unmerge_restores_everything(two_customers: Any, owner: Any) -> None:
    a, b = two_customers
    before = _snapshot()
    events_before = Event.objects.count()

    unmerge_customers(merge_customers(b, a, rule=LinkKind.AGENT, by=owner), by=owner)

    assert _snapshot() == before
    b.refresh_from_db()
    assert b.merged_into is None
    assert Event.objects.count() == events_before + 2


def test_a_merge_cannot_be_undone_twice(two_customers: Any) -> None:
    a, b = two_customers
    merge = merge_customers(b, a, rule=LinkKind.AGENT)
    unmerge_customers(merge)

    with pytest.raises(MergeError, match="already undone"):
        unmerge_customers(merge)


def test_a_customer_cannot_merge_into_itself_or_another_organization(
    two_customers: Any, other_org: Any
) -> None:
    a, _ = two_customers
    stranger = Customer.objects.create(organization=other_org, display_name="x")

    with pytest.raises(MergeError, match="itself"):
        merge_customers(a, a, rule=LinkKind.AGENT)
    with pytest.raises(MergeError, match="different organizations"):
        merge_customers(stranger, a, rule=LinkKind.AGENT)
