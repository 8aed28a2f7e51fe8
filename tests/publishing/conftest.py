"""Fixtures of the publishing suite: a brand account on a fake Mastodon, members, complaints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from earful.channels.models import Channel
from earful.channels.services import create_channel
from earful.conversations.models import Conversation
from earful.org.models import Membership, Role
from earful.org.services import add_member
from earful.pipeline.ingest import ingest_batch
from tests.channels.fakes import FakeServer
from tests.helpers import numbered, record
from tests.publishing.fake_mastodon import FakeMastodon

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def instance(settings: Any) -> Iterator[FakeMastodon]:
    """A started fake Mastodon instance the outbound guard may reach."""
    settings.EARFUL_HTTP_ALLOW_LOOPBACK = True
    server = FakeServer()
    server.start()
    yield FakeMastodon(server)
    server.stop()


@pytest.fixture
def mastodon(org: Any, instance: FakeMastodon) -> Channel:
    return create_channel(org, name="Mastodon", kind="mastodon", settings=instance.settings())


@pytest.fixture
def manager(org: Any) -> Membership:
    return Membership.objects.select_related("organization", "user").get(
        organization=org, user__username="owner@acme.example"
    )


@pytest.fixture
def agent(org: Any) -> Membership:
    return Membership.objects.select_related("organization", "user").get(
        organization=org, user__username="teammate@acme.example"
    )


@pytest.fixture
def contributor(org: Any) -> Membership:
    return add_member(org, "carl@acme.example", role=Role.CONTRIBUTOR)


def complain(
    channel: Channel, external_id: str, at: datetime, text: str = "", **extra: Any
) -> Conversation:
    """A customer's complaint on the channel, written at `at`."""
    body = text or "My flight was cancelled and nobody answers, this is terrible service"
    author = {"external_id": f"cust-{external_id}", "handle": f"cust{external_id}"}
    ingest_batch(
        channel,
        numbered([record(external_id, body, author=author, created_at=at.isoformat(), **extra)]),
    )
    return Conversation.objects.get(messages__external_id=external_id, messages__channel=channel)


def minutes_ago(minutes: int) -> datetime:
    return NOW - timedelta(minutes=minutes)
