"""Spike and crisis alerts: raised once, with their messages, and emailed to managers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import mail
from django.utils import timezone

from earful.channels.models import Channel
from earful.conversations.models import Message
from earful.demo.setup import create_demo
from earful.insights.alerts import check_alerts, is_spike
from earful.insights.models import Alert, AlertKind
from earful.insights.tick import insights_tick
from earful.org.models import Event
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record
from tests.insights.conftest import NOW, say


def burst(channel: Any, prefix: str, count: int, at: Any, **labels: Any) -> None:
    """`count` customer messages from different people at `at` (neutral unless told)."""
    labels = {"sentiment": "neutral"} | labels
    for n in range(count):
        say(channel, f"{prefix}-{n}", at, "no signal at all", author=f"{prefix}-{n}", **labels)


def test_the_spike_rule_needs_a_minimum_twice_the_usual_and_three_sigma() -> None:
    assert is_spike(10, 0.0, 10)
    assert not is_spike(9, 0.0, 10)
    assert not is_spike(30, 16.0, 10)  # under twice the usual
    assert is_spike(40, 16.0, 10)  # 40 > 16 + 3 * 4
    assert not is_spike(18, 9.0, 10)  # not above 9 + 3 * 3
    assert is_spike(19, 9.0, 10)


def test_a_volume_spike_raises_one_alert_with_its_messages(
    org: Any, channel: Any, django_capture_on_commit_callbacks: Any
) -> None:
    burst(channel, "v", 12, NOW - timedelta(minutes=20))
    with django_capture_on_commit_callbacks(execute=True):
        raised = check_alerts(org, NOW)
    assert [a.kind for a in raised] == [AlertKind.VOLUME]
    alert = raised[0]
    assert alert.observed == 12 and alert.usual == 0
    assert alert.messages.count() == 12
    assert Event.objects.filter(verb="alert.raised", target_id=str(alert.code)).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@acme.example"]
    assert "Volume spike" in str(mail.outbox[0].subject)
    numbers = alert.messages.values_list("conversation__number", flat=True)
    assert all(f"/o/acme/c/{number}/" in mail.outbox[0].body for number in numbers)
    assert check_alerts(org, NOW + timedelta(minutes=1)) == []  # the same hour: once


def test_the_usual_volume_for_that_hour_of_the_week_raises_nothing(org: Any, channel: Any) -> None:
    for week in range(1, 5):
        burst(channel, f"w{week}", 12, NOW - timedelta(weeks=week, minutes=20))
    burst(channel, "now", 12, NOW - timedelta(minutes=20))
    assert check_alerts(org, NOW) == []


def test_a_negativity_spike_is_its_own_alert(org: Any, channel: Any) -> None:
    burst(channel, "n", 6, NOW - timedelta(minutes=10), sentiment="negative")
    assert [a.kind for a in check_alerts(org, NOW)] == [AlertKind.NEGATIVITY]


def test_a_negative_post_drawing_many_replies_is_spreading(org: Any, channel: Any) -> None:
    post = say(
        channel,
        "p",
        NOW - timedelta(minutes=90),
        "they lost my data",
        author="a",
        sentiment="negative",
    )
    for n in range(5):
        say(
            channel,
            f"p-{n}",
            NOW - timedelta(minutes=60 - n),
            "same here",
            author=f"r{n}",
            reply_to="p",
        )
    (alert,) = check_alerts(org, NOW)
    assert alert.kind == AlertKind.SPREADING and alert.observed == 5
    assert post in alert.messages.all() and alert.messages.count() == 6


def test_an_unanswered_complaint_ageing_raises_an_alert_once(org: Any, channel: Any) -> None:
    old = say(
        channel, "c", NOW - timedelta(hours=5), "charged twice", author="a", intent="complaint"
    )
    say(channel, "fresh", NOW - timedelta(hours=1), "charged twice", author="b", intent="complaint")
    (alert,) = check_alerts(org, NOW)
    assert alert.kind == AlertKind.AGEING
    assert list(alert.messages.all()) == [old]
    assert check_alerts(org, NOW + timedelta(minutes=5)) == []


def test_an_answered_complaint_does_not_age(org: Any, channel: Any) -> None:
    say(channel, "c", NOW - timedelta(hours=5), "charged twice", author="a", intent="complaint")
    say(channel, "r", NOW - timedelta(hours=4), "refunded", reply_to="c")
    assert check_alerts(org, NOW) == []


def test_a_spike_injected_into_the_demo_raises_an_alert(db: None) -> None:
    demo = create_demo(threads=60)
    now = timezone.now()
    x = Channel.objects.get(organization=demo.organization, name="X")
    spike = [
        record(
            f"spike-{n}",
            "@brightwave whole network down in Leeds??",
            created_at=(now - timedelta(minutes=n + 1)).isoformat(),
            author={"external_id": f"spiker-{n}", "handle": f"spiker{n}"},
        )
        for n in range(40)
    ]
    ingest_batch(x, numbered(spike))
    insights_tick(now)
    alert = Alert.objects.get(organization=demo.organization, kind=AlertKind.VOLUME)
    assert alert.observed >= 40
    spiked = Message.objects.filter(
        organization=demo.organization, external_id__startswith="spike-"
    )
    assert set(spiked) <= set(alert.messages.all())
