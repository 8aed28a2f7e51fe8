"""Customers on the public board: posting, voting, commenting, one customer per address."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from earful.conversations.models import MessageKind
from earful.customers.models import Identity
from earful.errors import DomainError
from earful.feedback.board import (
    POSTS_PER_MINUTE,
    checked_person,
    comment,
    post_idea,
    similar_ideas,
    vote,
)
from earful.feedback.models import Idea, IdeaSupporter, SupportHow, Visibility
from earful.org.models import Event
from tests.feedback.helpers import ANA, BEN

pytestmark = pytest.mark.django_db


def test_a_posted_idea_enters_the_pipeline_as_a_triaged_board_message(board: Any) -> None:
    idea = post_idea(board, ANA, "Please add a dark mode to the app", "My eyes hurt at night.")

    assert idea.number == 1
    assert idea.message is not None
    assert idea.message.kind == MessageKind.BOARD
    assert idea.message.channel == board.channel
    assert idea.message.intent == "suggestion"
    assert idea.message.conversation is not None
    assert idea.author == idea.message.identity.customer
    assert Event.objects.filter(verb="idea.posted").count() == 1


def test_the_author_is_a_board_identity_and_the_first_supporter(board: Any) -> None:
    idea = post_idea(board, ANA, "Add Apple Pay at checkout")

    identity = Identity.objects.get(platform="board", external_id="ana@example.com")
    assert identity.customer == idea.author
    assert identity.display_name == "Ana Lima"
    supporter = IdeaSupporter.objects.get(idea=idea)
    assert (supporter.customer, supporter.how) == (idea.author, SupportHow.POSTED)


def test_the_same_address_is_one_customer_however_often_they_come(board: Any) -> None:
    first = post_idea(board, ANA, "Add Apple Pay at checkout")
    second = post_idea(board, checked_person("ana", " ANA@Example.com "), "Vegetarian meals")
    vote(first, BEN)
    vote(second, BEN)

    assert first.author == second.author
    assert Identity.objects.filter(platform="board").count() == 2


def test_a_vote_counts_once_per_person(board: Any) -> None:
    idea = post_idea(board, ANA, "Add Apple Pay at checkout")

    vote(idea, BEN)
    vote(idea, BEN)
    vote(idea, ANA)

    assert IdeaSupporter.objects.filter(idea=idea).count() == 2
    assert (
        IdeaSupporter.objects.get(idea=idea, how=SupportHow.VOTE).customer.display_name == "Ben Ode"
    )


def test_a_comment_is_ingested_and_makes_the_commenter_a_supporter(board: Any) -> None:
    idea = post_idea(board, ANA, "Add Apple Pay at checkout")

    found = comment(idea, BEN, "Yes please, I use it everywhere")

    assert found.message is not None and found.message.kind == MessageKind.BOARD
    supporter = IdeaSupporter.objects.get(idea=idea, customer=found.customer)
    assert supporter.how == SupportHow.COMMENT
    assert supporter.message == found.message


@pytest.mark.parametrize(
    ("name", "email", "reason"),
    [
        ("", "a@example.com", "name"),
        ("Ana", "not-an-address", "email"),
        ("x" * 201, "a@b.co", "name"),
    ],
)
def test_people_must_give_a_name_and_an_address(name: str, email: str, reason: str) -> None:
    with pytest.raises(DomainError, match=reason):
        checked_person(name, email)


def test_an_empty_or_huge_idea_is_refused_and_nothing_is_stored(board: Any) -> None:
    with pytest.raises(DomainError):
        post_idea(board, ANA, "   ")
    with pytest.raises(DomainError):
        post_idea(board, ANA, "x" * 201)

    assert not IdeaSupporter.objects.exists()


def test_with_approval_first_a_new_idea_waits(board: Any) -> None:
    board.approve_first = True
    board.save()

    idea = post_idea(board, ANA, "Add Apple Pay at checkout")

    assert idea.visibility == Visibility.PENDING
    with pytest.raises(DomainError, match="not open"):
        vote(idea, BEN)


def test_similar_ideas_find_the_same_wish_in_other_words(board: Any) -> None:
    target = post_idea(board, ANA, "Let me pay with Apple Pay at checkout")
    post_idea(board, BEN, "Vegetarian meals on short flights")
    post_idea(board, BEN, "More legroom in economy seats")

    found = similar_ideas(board.organization, "apple pay when paying please")

    assert found[0][0] == target


def test_the_same_post_sent_twice_is_kept_once(board: Any) -> None:
    post_idea(board, ANA, "Add Apple Pay at checkout")

    with pytest.raises(DomainError, match="already have"):
        post_idea(board, ANA, "Add Apple Pay at checkout")

    assert IdeaSupporter.objects.count() == 1


def test_a_flood_of_posts_is_refused(board: Any) -> None:
    for n in range(POSTS_PER_MINUTE):
        post_idea(board, ANA, f"idea number {n}")

    with pytest.raises(DomainError, match="too many"):
        post_idea(board, BEN, "one more")


def test_a_bot_filling_the_hidden_field_posts_nothing(board: Any, client: Client) -> None:
    form = {"title": "cheap pills", "name": "Bot", "email": "bot@example.com", "website": "x"}

    response = client.post(f"/b/{board.slug}/", form)

    assert response.status_code == 302
    assert not Idea.objects.exists()


def test_the_board_form_shows_what_to_fix_and_keeps_the_text(board: Any, client: Client) -> None:
    form = {"title": "Seat picking", "name": "Ana", "email": "not-an-address"}

    response = client.post(f"/b/{board.slug}/", form)

    assert response.status_code == 400
    page = response.content.decode()
    assert "valid email address" in page and 'value="Seat picking"' in page
    assert not Idea.objects.exists()


def test_the_idea_page_takes_votes_and_comments(board: Any, client: Client) -> None:
    idea = post_idea(board, ANA, "Seat picking")
    page = f"/b/{board.slug}/ideas/{idea.number}/"
    ben = {"name": "Ben Ode", "email": "ben@example.com"}

    client.post(f"{page}vote/", ben)
    client.post(f"{page}comment/", {**ben, "text": "With a seat map"})
    refused = client.post(f"{page}comment/", {"name": "X", "email": "nope", "text": "hi"})

    assert IdeaSupporter.objects.filter(idea=idea).count() == 2
    assert idea.comments.get().text == "With a seat map"
    assert "valid email address" in client.get(refused.url).content.decode()
    shown = client.get(page).content.decode()
    assert "With a seat map" in shown and 'value="ben@example.com"' in shown  # remembered
