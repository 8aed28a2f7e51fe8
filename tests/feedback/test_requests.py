"""Honest-answer requests: after a resolution or a visit, rate limited, unsubscribe honoured."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from earful.channels.models import ChannelKind
from earful.conversations.models import Direction, Message
from earful.errors import DomainError
from earful.feedback.models import FeedbackOptOut, FeedbackRequest
from earful.feedback.requests import Visit, answer_request, request_for_visits
from earful.inbox.models import OutboxItem
from earful.inbox.workflow import set_status
from earful.pipeline.ingest import ingest_batch
from tests.feedback.helpers import tweet
from tests.helpers import numbered, record

pytestmark = pytest.mark.django_db


def _email_conversation(email_channel: Any, external_id: str = "m1") -> Any:
    author = {"external_id": "eve@example.com", "handle": "eve@example.com", "display_name": "Eve"}
    ingest_batch(
        email_channel,
        numbered([record(external_id, "My refund never came", kind="email", author=author)]),
    )
    return Message.objects.get(external_id=external_id).conversation


def _switch_on(board: Any) -> None:
    board.request_after_resolve = True
    board.save()


def test_resolving_asks_one_open_question_by_email_to_an_email_customer(
    board: Any, email_channel: Any, owner: Any, now: Any
) -> None:
    _switch_on(board)
    conversation = _email_conversation(email_channel)

    set_status(conversation, "resolved", by=owner, now=now, reason="refund sent by post")

    request = FeedbackRequest.objects.get()
    assert request.customer == conversation.customer
    item = OutboxItem.objects.get()
    assert item.channel == email_channel
    assert item.parent.external_id == "m1"
    text = item.message.text
    assert text.startswith(board.request_question)
    assert f"/b/{board.slug}/answer/{request.token}/" in text
    assert f"/b/{board.slug}/unsubscribe/{request.token}/" in text
    assert item.message.direction == Direction.OUT


def test_a_social_customer_is_asked_by_a_reply_on_their_network(
    board: Any, channel: Any, owner: Any, now: Any
) -> None:
    _switch_on(board)
    post = tweet(channel, "t1", "where is my bag?")

    set_status(post.conversation, "resolved", by=owner, now=now, reason="found it")

    item = OutboxItem.objects.get()
    assert (item.channel.kind, item.parent) == (ChannelKind.X, post)
    assert len(item.message.text) <= 280


def test_nothing_is_asked_while_the_switch_is_off(
    board: Any, email_channel: Any, owner: Any, now: Any
) -> None:
    conversation = _email_conversation(email_channel)

    set_status(conversation, "resolved", by=owner, now=now, reason="done")

    assert not FeedbackRequest.objects.exists()
    assert not OutboxItem.objects.exists()


def test_a_customer_is_asked_at_most_once_in_thirty_days(
    board: Any, email_channel: Any, owner: Any, now: Any
) -> None:
    _switch_on(board)
    conversation = _email_conversation(email_channel)
    set_status(conversation, "resolved", by=owner, now=now, reason="done")
    set_status(conversation, "open", by=owner, now=now)

    set_status(conversation, "resolved", by=owner, now=now + timedelta(days=29), reason="done")
    assert FeedbackRequest.objects.count() == 1

    set_status(conversation, "open", by=owner, now=now)
    set_status(conversation, "resolved", by=owner, now=now + timedelta(days=31), reason="done")
    assert FeedbackRequest.objects.count() == 2


def test_visits_from_a_list_are_asked_once_each_with_reasons_for_the_rest(
    board: Any, email_channel: Any, now: Any
) -> None:
    visits = [
        Visit("zoe@example.com", "Zoe", "order 1001"),
        Visit("ZOE@example.com", "Zoe", "order 1002"),
        Visit("not an address", "Nobody", "order 1003"),
    ]

    outcomes = request_for_visits(board.organization, visits, now=now)

    assert outcomes[0].request is not None
    assert outcomes[0].request.reference == "order 1001"
    assert "already asked" in outcomes[1].skipped
    assert "not an email address" in outcomes[2].skipped
    assert OutboxItem.objects.get().recipient == "zoe@example.com"


def test_without_an_email_channel_a_visit_is_skipped_with_the_reason(board: Any, now: Any) -> None:
    outcome = request_for_visits(board.organization, [Visit("zoe@example.com")], now=now)[0]

    assert outcome.request is None
    assert "no channel" in outcome.skipped


def test_unsubscribing_is_honoured(
    board: Any, email_channel: Any, now: Any, client: Client
) -> None:
    request = request_for_visits(board.organization, [Visit("zoe@example.com")], now=now)[0].request
    assert request is not None
    link = f"/b/{board.slug}/unsubscribe/{request.token}/"

    assert client.get(link).status_code == 200  # a link checker's GET changes nothing
    assert not FeedbackOptOut.objects.exists()
    client.post(link)

    later = now + timedelta(days=400)
    outcome = request_for_visits(board.organization, [Visit("zoe@example.com")], now=later)[0]
    assert outcome.request is None
    assert outcome.skipped == "unsubscribed from feedback requests"


def test_the_answer_is_free_text_first_and_enters_the_pipeline(
    board: Any, email_channel: Any, now: Any, client: Client
) -> None:
    request = request_for_visits(board.organization, [Visit("zoe@example.com", "Zoe")], now=now)[
        0
    ].request
    assert request is not None
    link = f"/b/{board.slug}/answer/{request.token}/"
    page = client.get(link).content.decode()
    assert page.index('name="text"') < page.index('name="scale"')

    refused = client.post(link, {"scale": "5"})
    assert refused.status_code == 400
    client.post(link, {"text": "The staff were kind but the queue was far too long", "scale": "3"})

    request.refresh_from_db()
    answer = request.answer
    assert answer is not None and request.scale == 3
    assert answer.channel == board.channel and answer.kind == "board"
    assert answer.identity.customer == request.customer
    assert answer.sentiment != ""  # triaged like any message
    with pytest.raises(DomainError, match="already answered"):
        answer_request(request, "again")


def test_an_unknown_token_is_not_found(board: Any, client: Client) -> None:
    assert client.get(f"/b/{board.slug}/answer/nope/").status_code == 404
    assert client.post(f"/b/{board.slug}/unsubscribe/nope/").status_code == 404
