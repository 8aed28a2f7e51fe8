"""The demo: deterministic traffic over 30 days, on several channels, some of it unanswered."""

from __future__ import annotations

from datetime import UTC, datetime

from earful.conversations.models import Conversation, Message
from earful.demo.board import IDEAS
from earful.demo.generator import generate
from earful.demo.setup import DEMO_EMAIL, create_demo
from earful.feedback.models import Idea, IdeaStatus

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
    traffic = Message.objects.filter(raw__isnull=False)  # not the shipped notices
    assert info.report.stored == traffic.count() > 300
    assert again.report.stored == 0
    # The board: ideas in several states, one shipped with its supporters told.
    assert Idea.objects.count() == len(IDEAS)
    assert (
        Idea.objects.filter(status=IdeaStatus.SHIPPED)
        .get()
        .supporters.filter(notified_at__isnull=False)
        .exists()
    )
    open_conversations = Conversation.objects.filter(waiting_since__isnull=False).count()
    answered = Conversation.objects.filter(first_response_at__isnull=False).count()
    assert open_conversations > 0 and answered > 0
