"""The demo: deterministic traffic over 30 days, on several channels, some of it unanswered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from earful.conversations.models import Conversation, Handoff, HandoffStatus, Message
from earful.demo.board import IDEAS
from earful.demo.generator import generate
from earful.demo.setup import DEMO_EMAIL, create_demo
from earful.demo.teamwork import HANDOFFS
from earful.feedback.models import Idea, IdeaStatus
from earful.insights.scorecard import scorecard
from earful.insights.tables import Window

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


def test_the_demo_team_answers_hands_off_and_reports_back(db: None) -> None:
    info = create_demo(seed=7, threads=300)
    create_demo(seed=7, threads=300)

    handoffs = Handoff.objects.filter(organization=info.organization)
    assert handoffs.count() == HANDOFFS
    assert handoffs.filter(status=HandoffStatus.REPORTED_BACK).exists()
    assert handoffs.filter(status=HandoffStatus.OPEN).exists()
    assert {h.to_department.slug for h in handoffs} == {"it", "legal"}
    # Every step on the service's clock: asked before answered, answered before told.
    for handoff in handoffs.exclude(answered_at=None):
        assert handoff.answered_at is not None and handoff.created_at < handoff.answered_at
    now = timezone.now()
    window = Window(info.organization, now - timedelta(days=30), now)
    lines = {s.name: s.value for s in scorecard(window, now)}
    assert lines["Hand-off round trip (median)"].endswith(" min")
    assert not lines["People who took part"].startswith("nobody")
