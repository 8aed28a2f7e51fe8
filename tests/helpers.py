"""Small builders shared by the tests."""

from __future__ import annotations

from typing import Any


def record(external_id: str, text: str = "hello", **extra: Any) -> dict[str, Any]:
    """A valid connector record; keyword arguments override its fields."""
    data: dict[str, Any] = {
        "external_id": external_id,
        "text": text,
        "created_at": "2026-11-01T10:00:00+00:00",
        "author": {"external_id": "cust-1", "handle": "cust1"},
    }
    data.update(extra)
    return data


def numbered(records: list[Any]) -> list[tuple[int, Any]]:
    """The (record number, record) pairs ingest takes."""
    return list(enumerate(records, start=1))

