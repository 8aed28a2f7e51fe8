"""What every destination's tests share: the hand-off to IT, and the round trip of the issue's
Done-when, from a customer's tweet to the department and back to that customer on X."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from earful.channels.services import create_channel
from earful.conversations.models import Conversation, Handoff
from earful.inbox import handoffs
from earful.inbox.models import OutboxItem, OutboxStatus
from earful.inbox.outbox import deliver_due
from earful.insights.scorecard import scorecard
from earful.insights.tables import Window
from earful.org.models import Department, Event
from tests.channels.fakes import FakeServer, Seen
from tests.inbox.conftest import complain

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
TWEET_ID = "1860000000000000001"


def hand_to_it(conversation: Conversation, owner: Any, capture: Any) -> Handoff:
    """Hand the conversation to IT, running what is done on commit (opening its tickets)."""
    it = Department.objects.get(organization=conversation.organization, slug="it")
    with capture(execute=True):
        return handoffs.hand_off(
            conversation, it, "Crash on opening bookings since 4.2?", by=owner, now=NOW
        )


def tweeting_customer(org: Any, fake: FakeServer) -> tuple[Conversation, list[Seen]]:
    """A customer's tweet about a crash, on an X channel whose API is the fake; and the list
    of the posts X then receives from earful."""
    tweets: list[Seen] = []

    def post_tweet(seen: Seen) -> Any:
        tweets.append(seen)
        return 201, {}, {"data": {"id": "1860000000000000099", "text": seen.json()["text"]}}

    fake.route("POST", "/2/tweets", post_tweet)
    x = create_channel(
        org,
        name="X",
        kind="x",
        settings={
            "bearer_token": "AAAAAAAAAAAAAAAAAAAAAbearer-for-tests",
            "consumer_key": "ck-123456",
            "consumer_secret": "cs-123456",
            "access_token": "at-123456",
            "access_token_secret": "ats-123456",
            "api_base": fake.url,
        },
    )
    conversation = complain(x, TWEET_ID, "@AcmeAir your app crashes every time I open my bookings!")
    complaint = conversation.messages.get()
    assert complaint.complaint and complaint.topic == "product_bug"
    return conversation, tweets


def report_back_on_x(
    org: Any, owner: Any, client: Client, handoff: Handoff, tweets: list[Seen], capture: Any
) -> None:
    """With the hand-off fixed: the owner is prompted, sends the drafted report-back, X gets it
    once as a reply to the tweet, the event log has each step and the scorecard counts it."""
    handoff.refresh_from_db()
    draft = handoffs.report_back_draft(handoff)
    client.force_login(owner)
    page = client.get(f"/o/acme/c/{handoff.conversation.number}/").content.decode()
    assert "IT fixed it: tell the customer" in page

    sent_at = NOW + timedelta(hours=5)
    with capture(execute=True):
        handoffs.report_back(handoff, draft, by=owner, now=sent_at)
    deliver_due(sent_at + timedelta(minutes=10))

    assert len(tweets) == 1
    assert tweets[0].json()["reply"]["in_reply_to_tweet_id"] == TWEET_ID
    assert OutboxItem.objects.get().status == OutboxStatus.SENT
    verbs = [
        v
        for v in Event.objects.order_by("pk").values_list("verb", flat=True)
        if v.startswith("handoff.")
    ]
    assert verbs == [
        "handoff.requested",
        "handoff.ticket_opened",
        "handoff.fixed",
        "handoff.reported_back",
    ]
    # Hand-offs are dated by when they were stored (the real clock), steps by the service's.
    until = timezone.now() + timedelta(days=1)
    lines = {s.name: s.value for s in scorecard(Window(org, NOW - timedelta(days=1), until), until)}
    assert lines["Hand-offs answered"] == "100 % of 1"
    assert lines["Hand-off round trip (median)"] != "no data"
