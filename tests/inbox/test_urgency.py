"""Routing urgency: computed as messages arrive, aged by the tick, zero once answered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from earful.conversations.models import Conversation
from earful.inbox.queues import Filters, queue
from earful.inbox.replies import send_reply_to_customer
from earful.inbox.urgency import REFRESH_AFTER, refresh_waiting
from earful.org.models import Membership
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record
from tests.inbox.conftest import complain


def just_now() -> str:
    """A message time a minute ago (urgency grows with the customer's real wait)."""
    return (timezone.now() - timedelta(minutes=1)).isoformat()


def said_by(channel: Any, external_id: str, text: str, author: str, followers: int) -> Any:
    """A customer's message by an author with that many followers."""
    who = {"external_id": author, "display_name": author, "audience_size": followers}
    ingest_batch(channel, numbered([record(external_id, text, author=who, created_at=just_now())]))
    return Conversation.objects.get(messages__external_id=external_id)


ANGRY = "This is the third time my flight was cancelled and nobody answers. Disgraceful service!"
CALM = "Hi, what time does the lounge open on Sundays?"


def test_an_angry_complaint_from_a_big_account_comes_first(channel: Any, owner: Any) -> None:
    calm = complain(channel, "m1", CALM, author="calm", created_at=just_now())
    angry = said_by(channel, "m2", ANGRY, "loud", followers=250_000)
    quiet = said_by(channel, "m3", ANGRY, "small", followers=12)

    calm.refresh_from_db()
    angry.refresh_from_db()
    quiet.refresh_from_db()
    message = angry.messages.get()
    assert 0 < message.urgency <= 1 and message.complaint
    assert angry.urgency > quiet.urgency > calm.urgency > 0
    membership = Membership.objects.get(organization=channel.organization, user=owner)
    page = queue(membership, "all", Filters(), sort="urgency", now=timezone.now())
    assert [c.number for c in page[:3]] == [angry.number, quiet.number, calm.number]


def test_waiting_raises_urgency_and_an_answer_sets_it_to_zero(channel: Any, owner: Any) -> None:
    conversation = complain(channel, "m1", CALM, created_at=just_now())
    conversation.refresh_from_db()
    fresh, computed = conversation.urgency, conversation.urgency_at
    assert computed is not None

    # Not stale yet: the tick leaves it; two hours on, waiting has raised it.
    assert refresh_waiting(channel.organization, computed + REFRESH_AFTER / 2) == 0
    assert refresh_waiting(channel.organization, computed + timedelta(hours=2)) == 1
    conversation.refresh_from_db()
    assert conversation.urgency > fresh

    send_reply_to_customer(conversation, "It opens at 6:00.", by=owner, now=timezone.now())
    refresh_waiting(channel.organization, timezone.now() + timedelta(hours=3))
    conversation.refresh_from_db()
    assert conversation.waiting_since is None and conversation.urgency == 0.0


def test_a_thread_piling_up_is_more_urgent_than_one_message(channel: Any) -> None:
    single = complain(channel, "s1", CALM, author="one", created_at=just_now())
    for n in range(4):
        piled = complain(channel, f"p{n}", CALM, author="many", created_at=just_now())

    single.refresh_from_db()
    piled = Conversation.objects.get(pk=piled.pk)
    assert piled.messages.count() == 4
    assert piled.urgency > single.urgency
