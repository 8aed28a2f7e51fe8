"""Customers over the API: the story, merge and undo, and deciding suggestions."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from earful.customers.models import Customer, Identity, LinkSuggestion
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
                    "Terrible service, my order is lost",
                    author={"external_id": "a", "display_name": "Sam Reed", "audience_size": 120},
                ),
                record("2", "hello there", author={"external_id": "b", "display_name": "Sam Reed"}),
            ]
        ),
    )
    client.force_login(owner)
    return client


def _code(external_id: str) -> str:
    return str(Identity.objects.get(external_id=external_id).customer.code)


def test_it_tells_a_customers_story(member: Client) -> None:
    body = member.get(f"/api/v1/orgs/acme/customers/{_code('a')}").json()

    assert body["identities"][0]["audience_size"] == 120
    assert body["messages"] == 1
    assert body["turnaround"]["started_negative"] is True
    assert len(body["sentiment_trend"]) == 1


def test_merge_and_undo_through_the_api(member: Client) -> None:
    a, b = _code("a"), _code("b")

    merged = member.post(f"/api/v1/orgs/acme/customers/{b}/merge-into/{a}")

    assert merged.status_code == 200
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1
    undone = member.post(f"/api/v1/orgs/acme/merges/{merged.json()['code']}/undo")
    assert undone.json()["undone_at"] is not None
    assert Customer.objects.filter(merged_into__isnull=True).count() == 2


def test_suggestions_are_listed_and_decided(member: Client) -> None:
    listed = member.get("/api/v1/orgs/acme/link-suggestions").json()
    assert [s["rule"] for s in listed] == ["same_name"]

    decided = member.post(f"/api/v1/orgs/acme/link-suggestions/{listed[0]['code']}/reject")

    assert decided.json()["status"] == "rejected"
    assert LinkSuggestion.objects.get().status == "rejected"
    assert member.get("/api/v1/orgs/acme/link-suggestions").json() == []
    wrong = member.post(f"/api/v1/orgs/acme/link-suggestions/{listed[0]['code']}/maybe")
    assert wrong.status_code == 400
