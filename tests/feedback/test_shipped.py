"""Closing the loop: shipping an idea tells each supporter once, on their own channel."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from earful.channels.models import ChannelKind
from earful.channels.services import get_or_create_channel
from earful.conversations.models import Message
from earful.customers.merging import merge_customers
from earful.customers.models import LinkKind
from earful.feedback.board import comment, post_idea, vote
from earful.feedback.ideas import link_message, set_status
from earful.feedback.models import IdeaStatus, IdeaStatusChange, IdeaSupporter
from earful.inbox.models import OutboxItem
from earful.pipeline.ingest import ingest_batch
from tests.feedback.helpers import ANA, BEN, CAL, tweet
from tests.helpers import numbered, record

pytestmark = pytest.mark.django_db


def test_each_supporter_gets_one_notice_on_their_own_channel(
    board: Any, channel: Any, email_channel: Any, owner: Any, now: Any
) -> None:
    idea = post_idea(board, ANA, "Let us pick seats in the app")
    vote(idea, BEN)
    comment(idea, CAL, "Yes, with the seat map")
    post = tweet(channel, "t1", "you should let us pick seats when booking on the app")
    link_message(post, idea, by=owner)

    set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now, response="Seat picking is live.")

    items = OutboxItem.objects.select_related("message", "channel").order_by("pk")
    assert items.count() == 4
    by_recipient = {(i.channel.kind, i.recipient or i.parent.external_id) for i in items}
    assert by_recipient == {
        (ChannelKind.EMAIL, "ana@example.com"),
        (ChannelKind.EMAIL, "ben@example.com"),
        (ChannelKind.EMAIL, "cal@example.com"),
        (ChannelKind.X, "t1"),
    }
    x_notice = items.get(channel=channel)
    assert x_notice.parent == post
    assert len(x_notice.message.text) <= 280
    assert all(s.notified_at == now for s in IdeaSupporter.objects.filter(idea=idea))


def test_shipping_twice_never_tells_anyone_twice(board: Any, owner: Any, now: Any) -> None:
    idea = post_idea(board, ANA, "Let us pick seats in the app")
    vote(idea, BEN)

    set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now)
    set_status(idea, IdeaStatus.IN_PROGRESS, by=owner, now=now)
    set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now)

    assert OutboxItem.objects.count() == 2
    assert IdeaStatusChange.objects.filter(idea=idea).count() == 3


def test_two_supporters_merged_into_one_person_are_told_once(
    board: Any, channel: Any, email_channel: Any, owner: Any, now: Any
) -> None:
    idea = post_idea(board, ANA, "Let us pick seats in the app")
    post = tweet(channel, "t1", "you should let us pick seats when booking on the app")
    link_message(post, idea, by=owner)
    on_board = IdeaSupporter.objects.get(idea=idea, how="posted").customer
    assert post.identity is not None
    merge_customers(post.identity.customer, on_board, rule=LinkKind.AGENT, by=owner)

    set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now)

    assert OutboxItem.objects.count() == 1
    assert all(s.notified_at == now for s in IdeaSupporter.objects.filter(idea=idea))


def test_a_supporter_who_arrives_after_shipping_is_told_on_the_next_shipping(
    board: Any, owner: Any, now: Any
) -> None:
    idea = post_idea(board, ANA, "Let us pick seats in the app")
    set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now)
    vote(idea, BEN)

    set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now)

    assert OutboxItem.objects.count() == 2


def test_without_an_email_channel_board_notices_are_recorded_on_the_board(
    board: Any, owner: Any, now: Any
) -> None:
    idea = post_idea(board, ANA, "Let us pick seats in the app")

    set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now)

    item = OutboxItem.objects.get()
    assert item.channel == board.channel
    assert item.parent == idea.message


def test_the_notice_follows_the_organizations_template(
    board: Any, email_channel: Any, owner: Any, now: Any
) -> None:
    board.shipped_template = "Hi {name}! {idea} is done ({response}). See {link} {unknown}"
    board.save()
    idea = post_idea(board, ANA, "Seat picking")

    set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now, response="live today")

    text = OutboxItem.objects.get().message.text
    assert text.startswith("Hi Ana Lima! Seat picking is done (live today). See http")
    assert f"/b/{board.slug}/ideas/{idea.number}/" in text
    assert text.endswith("{unknown}")


def test_the_staff_page_shows_who_was_told_and_when(
    board: Any, email_channel: Any, owner: Any, now: Any, client: Client
) -> None:
    idea = post_idea(board, ANA, "Seat picking")
    vote(idea, BEN)
    set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now)
    client.force_login(owner)

    page = client.get(f"/o/acme/feedback/ideas/{idea.number}/").content.decode()

    assert page.count(now.strftime("%Y-%m-%d")) >= 2
    assert "Support email" in page
    assert "not yet" not in page


def test_a_widget_author_is_told_by_email(
    board: Any, email_channel: Any, owner: Any, now: Any
) -> None:
    widget = get_or_create_channel(board.organization, name="Site form", kind="widget")
    author = {"external_id": "wes@example.com", "handle": "wes@example.com"}
    ingest_batch(
        widget, numbered([record("w1", "Please add a dark mode", kind="direct", author=author)])
    )
    said = Message.objects.get(external_id="w1")
    idea = post_idea(board, ANA, "Dark mode")
    link_message(said, idea, by=owner)

    set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now)

    notice = OutboxItem.objects.get(recipient="wes@example.com")
    assert (notice.channel, notice.parent) == (email_channel, said)
