"""Outgoing webhooks: signed JSON posts of alerts and conversation events, retried, once each."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from earful.errors import DomainError
from earful.inbox.handoffs import hand_off
from earful.inbox.outbox import backoff
from earful.insights import webhooks
from earful.insights.models import DeliveryStatus, WebhookDelivery
from earful.insights.tick import insights_tick
from earful.org.events import record_event
from earful.org.models import Department
from tests.insights.conftest import NOW, say
from tests.insights.receiver import receiver


@pytest.fixture(autouse=True)
def _loopback(settings: Any) -> None:
    settings.EARFUL_HTTP_ALLOW_LOOPBACK = True


def test_an_alert_reaches_the_endpoint_signed_within_one_tick(org: Any, channel: Any) -> None:
    with receiver() as got:
        endpoint = webhooks.add_endpoint(org, got.url)
        for n in range(12):
            say(
                channel,
                f"v{n}",
                NOW - timedelta(minutes=5),
                "down",
                author=f"a{n}",
                sentiment="neutral",
            )
        report = insights_tick(NOW)
    assert report.alerts == 1 and report.posted >= 1
    alerts = [(h, b) for h, b in got.posts if h["x-earful-event"] == "alert.raised"]
    assert len(alerts) == 1
    headers, body = alerts[0]
    expected = webhooks.sign(endpoint.secret, headers["x-earful-timestamp"], body)
    assert headers["x-earful-signature"] == expected
    event = json.loads(body)
    assert event["organization"] == "acme" and event["after"]["kind"] == "volume"
    assert len(event["after"]["messages"]) == 12


def test_conversation_events_are_posted_from_the_event_log(
    org: Any, channel: Any, owner: Any
) -> None:
    conversation = say(channel, "c1", NOW, "router broken", author="a").conversation
    with receiver() as got:
        webhooks.add_endpoint(org, got.url, verbs=["handoff."])
        it = Department.objects.get(organization=org, slug="it")
        hand_off(conversation, it, "please look", by=owner, now=NOW)  # type: ignore[arg-type]
        insights_tick(NOW)
        insights_tick(NOW + timedelta(seconds=30))
    verbs = [h["x-earful-event"] for h, _ in got.posts]
    assert verbs == ["handoff.requested"]  # once, and only what the endpoint asked for


def test_a_failed_post_is_retried_with_backoff_then_sent(org: Any) -> None:
    with receiver() as got:
        got.statuses = [500]
        webhooks.add_endpoint(org, got.url)
        record_event(org, "conversation.test", after={"n": 1})
        insights_tick(NOW)
        delivery = WebhookDelivery.objects.get(verb="conversation.test")
        assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
        assert delivery.last_error == "answered HTTP 500"
        assert delivery.next_attempt_at == NOW + timedelta(seconds=30)
        assert webhooks.deliver_due(NOW + timedelta(seconds=10)) == 0  # not due yet
        webhooks.deliver_due(NOW + timedelta(seconds=30))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    ids = {h["x-earful-delivery"] for h, _ in got.posts}
    assert len(got.posts) == 2 and len(ids) == 1  # the same delivery id on the retry


def test_a_delivery_that_keeps_failing_ends_dead(org: Any) -> None:
    with receiver() as got:
        got.statuses = [503] * webhooks.MAX_ATTEMPTS
        webhooks.add_endpoint(org, got.url)
        record_event(org, "conversation.test")
        now = timezone.now()
        webhooks.queue_events(now)
        for attempt in range(webhooks.MAX_ATTEMPTS):
            now += backoff(attempt + 1)
            webhooks.deliver_due(now)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.attempts == webhooks.MAX_ATTEMPTS


def test_a_new_endpoint_does_not_get_the_history(org: Any, channel: Any) -> None:
    say(channel, "c1", NOW, "hello", author="a")
    endpoint = webhooks.add_endpoint(org, "https://hooks.example.com/x")
    assert webhooks.queue_events(NOW) == 0
    assert endpoint.cursor > 0


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/x", "http://10.0.0.7/hook", "http://169.254.169.254/"]
)
def test_private_or_odd_addresses_are_refused(org: Any, url: str) -> None:
    with pytest.raises(DomainError, match="cannot send to that address"):
        webhooks.add_endpoint(org, url)


def test_event_names_are_checked(org: Any) -> None:
    with pytest.raises(DomainError, match="is not an event name"):
        webhooks.add_endpoint(org, "https://hooks.example.com/x", verbs=["alert raised!"])
