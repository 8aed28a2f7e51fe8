"""Suggestions from everywhere: a tweet triaged as a suggestion becomes an idea's support."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from earful.conversations.models import Message
from earful.errors import DomainError
from earful.feedback.board import post_idea
from earful.feedback.ideas import open_idea_from_message, set_status
from earful.feedback.models import Idea, IdeaStatus, IdeaSupporter, SupportHow
from earful.feedback.queries import unlinked_suggestions
from earful.inbox.models import OutboxItem
from earful.pipeline.ingest import ingest_batch
from tests.feedback.helpers import ANA, tweet
from tests.helpers import numbered, record

pytestmark = pytest.mark.django_db


def test_a_tweet_suggestion_links_to_an_idea_and_its_author_hears_it_shipped(
    board: Any, channel: Any, owner: Any, now: Any, client: Client
) -> None:
    idea = post_idea(board, ANA, "Vegetarian meals on short flights")
    post = tweet(channel, "t9", "It would be nice if you offered vegetarian meals on short flights")
    assert post.intent == "suggestion"
    client.force_login(owner)

    page = client.get("/o/acme/feedback/suggestions/").content.decode()
    assert "vegetarian meals on short flights" in page
    assert f'value="{idea.number}" checked' in page  # the nearest idea is offered first
    client.post(f"/o/acme/feedback/suggestions/{post.code}/link/", {"idea": str(idea.number)})

    supporter = IdeaSupporter.objects.get(idea=idea, customer=post.identity.customer)
    assert supporter.how == SupportHow.LINKED_MESSAGE
    assert not unlinked_suggestions(board.organization).exists()

    set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now)
    notice = OutboxItem.objects.get(channel=channel)
    assert notice.parent == post
    assert notice.message.conversation == post.conversation


def test_a_new_idea_can_be_opened_from_a_suggestion(
    board: Any, channel: Any, owner: Any, client: Client
) -> None:
    post = tweet(channel, "t2", "Please add a dark mode to the app")
    client.force_login(owner)

    client.post(
        f"/o/acme/feedback/suggestions/{post.code}/link/", {"idea": "new", "title": "Dark mode"}
    )

    idea = Idea.objects.get()
    assert (idea.title, idea.message, idea.author) == ("Dark mode", post, post.identity.customer)
    assert IdeaSupporter.objects.get(idea=idea).how == SupportHow.LINKED_MESSAGE


def test_complaints_and_our_own_messages_are_not_offered(board: Any, channel: Any) -> None:
    tweet(channel, "t3", "my flight got cancelled and nobody answers")

    assert not unlinked_suggestions(board.organization).exists()


def test_a_private_message_lends_nothing_to_the_public_board(
    board: Any, email_channel: Any, owner: Any
) -> None:
    author = {"external_id": "eve@example.com", "handle": "eve@example.com"}
    ingest_batch(
        email_channel,
        numbered(
            [record("m1", "Please add dark mode. My card is 4111", kind="email", author=author)]
        ),
    )
    said = Message.objects.get(external_id="m1")

    with pytest.raises(DomainError, match="private"):
        open_idea_from_message(said, "", by=owner)
    idea = open_idea_from_message(said, "Dark mode", by=owner)

    assert (idea.title, idea.details) == ("Dark mode", "")
