"""The demo: deterministic traffic over 30 days, on several channels, some of it unanswered."""

from __future__ import annotations

from datetime import UTC, datetime

from earful.conversations.models import Conversation, Message
from earful.demo.generator import generate
from earful.demo.setup import DEMO_EMAIL, create_demo

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_the_same_seed_gives_the_same_traffic() -> None:
    first = list(generate(seed=3, threads=200, now=NOW))
    second = list(generate(seed=3, threads=200, now=NOW))
    other = list(generate(seed=4, threads=200, now=NOW))

    assert first == second
    assert first != other


def test_the_traffic_spans_channels_directions_and_30_days() -> None:
    messages = list(generate(seed=7, threads=600, now=NOW))

    assert len({m.channel for m in messages}) == 6
    assert {m.record["direction"] for m in messages} == {"in", "out"}
    times = [datetime.fromisoformat(m.record["created_at"]) for m in messages]
    assert (max(times) - min(times)).days >= 28
    assert max(times) <= NOW


def test_create_demo_is_idempotent_and_leaves_some_unanswered(db: None) -> None:
    info = create_demo(seed=7, threads=300)
    again = create_demo(seed=7, threads=300)

    assert info.email == DEMO_EMAIL
    assert info.report.stored == Message.objects.count() > 300
    assert again.report.stored == 0
    open_conversations = Conversation.objects.filter(waiting_since__isnull=False).count()
    answered = Conversation.objects.filter(first_response_at__isnull=False).count()
    assert open_conversations > 0 and answered > 0
