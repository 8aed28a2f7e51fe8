"""The queue and conversation pages: counts, filters, search, actions, escaping."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from earful.conversations.models import Conversation, Status
from earful.inbox import page
from earful.inbox.models import LabelCorrection, OutboxItem
from earful.inbox.workflow import add_note
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record
from tests.inbox.conftest import complain


def test_the_queues_count_filter_and_search(channel: Any, owner: Any, client: Client) -> None:
    complain(channel, "q1", "My router is broken again", "c1")
    complain(channel, "q2", "Lovely crew on my flight today", "c2")
    client.force_login(owner)

    page = client.get("/o/acme/inbox/").content.decode()
    found = client.get("/o/acme/inbox/", {"queue": "all", "q": "router"}).content.decode()
    mine = client.get("/o/acme/inbox/", {"queue": "mine"}).content.decode()

    assert 'Unassigned <span class="n">2</span>' in page
    assert "router is broken" in found and "Lovely crew" not in found
    assert "Nothing in this queue." in mine


def test_the_queue_rows_take_a_fixed_number_of_queries(
    channel: Any, owner: Any, client: Client
) -> None:
    client.force_login(owner)
    complain(channel, "n1", "first problem", "c1")
    with CaptureQueriesContext(connection) as one:
        client.get("/o/acme/inbox/", headers={"HX-Request": "true"})
    for i in range(2, 6):
        complain(channel, f"n{i}", f"problem {i}", f"c{i}")
    with CaptureQueriesContext(connection) as five:
        client.get("/o/acme/inbox/", headers={"HX-Request": "true"})

    assert len(five.captured_queries) == len(one.captured_queries)


def test_the_conversation_page_shows_hostile_text_as_text(
    channel: Any, owner: Any, client: Client
) -> None:
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)> \u202eevil"
    conversation = complain(channel, "e1", evil)
    client.force_login(owner)

    html = client.get(f"/o/acme/c/{conversation.number}/").content.decode()

    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "[U+202E]evil" in html


def test_replying_and_resolving_from_the_page(
    complaint: Conversation, owner: Any, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(owner)
    url = f"/o/acme/c/{complaint.number}/"

    refused = client.post(url + "status/", {"status": "resolved"}, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url + "reply/", {"text": "So sorry, fixing it now."})
    client.post(url + "status/", {"status": "resolved"})

    assert "give a reason" in refused.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED
    assert OutboxItem.objects.get().message.text.startswith("So sorry")


def test_the_tone_guard_answers_the_composer(
    complaint: Conversation, owner: Any, client: Client
) -> None:
    client.force_login(owner)
    url = f"/o/acme/c/{complaint.number}/tone/"

    hostile = client.post(url, {"text": "That's your own fault, idiot."}).content.decode()
    kind = client.post(url, {"text": "Sorry about this, we're on it."}).content.decode()

    assert "customer_blaming" in hostile and "Suggested rewrite" in hostile
    assert "Tone looks fine" in kind


def test_a_label_correction_is_stored(complaint: Conversation, owner: Any, client: Client) -> None:
    client.force_login(owner)
    message = complaint.messages.get()

    client.post(
        f"/o/acme/messages/{message.code}/correct/", {"field": "sentiment", "value": "positive"}
    )

    correction = LabelCorrection.objects.get()
    assert (correction.field, correction.new, correction.by) == ("sentiment", "positive", owner)


def test_the_poll_brings_new_rows_and_fresh_counts(
    channel: Any, owner: Any, client: Client
) -> None:
    client.force_login(owner)
    client.get("/o/acme/inbox/")
    complain(channel, "p1", "New complaint arrived", "c9")

    poll = client.get("/o/acme/inbox/", headers={"HX-Request": "true"}).content.decode()

    assert "New complaint arrived" in poll
    assert 'id="queue-tabs" aria-label="Queues" hx-swap-oob="true"' in poll
    assert "<html" not in poll


def test_the_conversation_page_takes_a_fixed_number_of_queries(
    channel: Any, owner: Any, client: Client
) -> None:

    conversation = complain(channel, "t1", "first message")
    client.force_login(owner)
    url = f"/o/acme/c/{conversation.number}/"
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    ingest_batch(
        channel,
        numbered([record(f"t{i}", f"more {i}", in_reply_to="t1") for i in range(2, 6)]),
    )
    for i in range(3):
        add_note(conversation, f"note {i}", by=owner)
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many.captured_queries) == len(one.captured_queries)


def test_the_customer_card_lists_their_other_conversations(
    channel: Any, owner: Any, client: Client
) -> None:
    earlier = complain(channel, "h1", "Lost my bag", "same", created_at="2026-10-01T08:00:00+00:00")
    later = complain(channel, "h2", "Seat broken", "same", created_at="2026-10-20T08:00:00+00:00")
    client.force_login(owner)

    html = client.get(f"/o/acme/c/{later.number}/").content.decode()

    assert later.number != earlier.number
    assert f"#{earlier.number} Lost my bag" in html


def test_a_long_conversation_shows_its_newest_messages_and_how_many_are_hidden(
    channel: Any, owner: Any, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(page, "TIMELINE_LIMIT", 2)
    conversation = complain(channel, "l1", "oldest words", created_at="2026-11-01T08:00:00+00:00")
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "l2", "middle words", in_reply_to="l1", created_at="2026-11-01T09:00:00+00:00"
                ),
                record(
                    "l3", "newest words", in_reply_to="l2", created_at="2026-11-01T10:00:00+00:00"
                ),
            ]
        ),
    )
    client.force_login(owner)

    body = client.get(f"/o/acme/c/{conversation.number}/").content.decode()

    shown = [f'id="m-{m.code}"' in body for m in conversation.messages.order_by("created_at")]
    assert "1 earlier message not shown" in body
    assert shown == [False, True, True]
    assert body.index("middle words") < body.index("newest words")
