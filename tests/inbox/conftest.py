"""Fixtures of the inbox suite: a complaint in its conversation, an IT member, a teammate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from earful.conversations.models import Conversation
from earful.org.models import Department, Membership, Role
from earful.org.services import add_member
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def complain(
    channel: Any,
    external_id: str,
    text: str,
    author: str = "cust-1",
    *,
    email: str = "",
    **extra: Any,
) -> Conversation:
    """Ingest a customer's message (by an author with an optional verified email)."""
    author_fields = {"external_id": author, "display_name": "Sam Reed", "verified_email": email}
    ingest_batch(channel, numbered([record(external_id, text, author=author_fields, **extra)]))
    return Conversation.objects.get(messages__external_id=external_id, messages__channel=channel)


@pytest.fixture
def complaint(channel: Any) -> Conversation:
    return complain(channel, "c1", "My router keeps dropping the connection")


@pytest.fixture
def teammate(org: Any) -> Any:
    return Membership.objects.get(organization=org, user__username="teammate@acme.example")


@pytest.fixture
def it_member(org: Any) -> Membership:
    it = Department.objects.get(organization=org, slug="it")
    return add_member(org, "ivy@acme.example", role=Role.CONTRIBUTOR, department=it)
