"""The messages API: the same list and search as the page, as JSON."""

from __future__ import annotations

from typing import Any

from django.test import Client

from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record


def test_it_lists_messages_newest_first_with_search(
    channel: Any, owner: Any, client: Client
) -> None:
    ingest_batch(
        channel,
        numbered(
            [
                record("1", "lost baggage", created_at="2026-11-01T10:00:00Z"),
                record("2", "baggage found", created_at="2026-11-02T10:00:00Z"),
                record("3", "great crew", created_at="2026-11-03T10:00:00Z"),
            ]
        ),
    )
    client.force_login(owner)

    response = client.get("/api/v1/orgs/acme/messages", {"q": "baggage"})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["text"] for item in body["items"]] == ["baggage found", "lost baggage"]
    assert body["items"][0]["channel"] == "X"
    assert body["items"][0]["conversation"] is not None


def test_it_requires_authentication(org: Any, client: Client) -> None:
    assert client.get("/api/v1/orgs/acme/messages").status_code == 401
