"""Moderation: approve, hide, block an author."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from earful.errors import DomainError
from earful.feedback.board import comment, post_idea, public_ideas, vote
from earful.feedback.ideas import block_author, moderate_idea
from earful.feedback.models import Idea, Visibility
from earful.org.models import Event
from tests.feedback.helpers import ANA, BEN

pytestmark = pytest.mark.django_db


def test_an_idea_waiting_for_approval_appears_once_approved(board: Any, owner: Any) -> None:
    board.approve_first = True
    board.save()
    idea = post_idea(board, ANA, "Seat picking")
    assert idea not in public_ideas(board)

    moderate_idea(idea, Visibility.SHOWN, by=owner)

    assert idea in public_ideas(board)
    assert Event.objects.filter(verb="idea.moderated", actor=owner).exists()


def test_a_hidden_idea_leaves_the_board(board: Any, owner: Any, client: Client) -> None:
    idea = post_idea(board, ANA, "Seat picking")

    moderate_idea(idea, Visibility.HIDDEN, by=owner)

    assert idea not in public_ideas(board)
    assert "Seat picking" not in client.get(f"/b/{board.slug}/").content.decode()


def test_a_blocked_author_can_post_nothing_more_and_their_posts_are_hidden(
    board: Any, owner: Any
) -> None:
    idea = post_idea(board, ANA, "Buy now!!! cheap pills")
    other = post_idea(board, BEN, "Seat picking")
    spam = comment(other, ANA, "cheap pills here")

    block_author(idea, by=owner)

    idea.refresh_from_db()
    spam.refresh_from_db()
    assert (idea.visibility, spam.visibility) == (Visibility.HIDDEN, Visibility.HIDDEN)
    for attempt in (
        lambda: post_idea(board, ANA, "more pills"),
        lambda: vote(other, ANA),
        lambda: comment(other, ANA, "pills"),
    ):
        with pytest.raises(DomainError, match="does not accept"):
            attempt()
    assert Idea.objects.count() == 2


def test_moderation_accepts_only_show_or_hide(board: Any, owner: Any) -> None:
    idea = post_idea(board, ANA, "Seat picking")

    with pytest.raises(DomainError):
        moderate_idea(idea, "pending", by=owner)
