"""Merging duplicates: supporters and comments move, a person on both counts once."""

from __future__ import annotations

from typing import Any

import pytest

from earful.errors import DomainError
from earful.feedback.board import comment, post_idea, vote
from earful.feedback.ideas import merge_ideas, set_status
from earful.feedback.models import IdeaStatus, IdeaStatusChange, IdeaSupporter
from tests.feedback.helpers import ANA, BEN, CAL

pytestmark = pytest.mark.django_db


def test_merging_adds_the_votes_up(board: Any, owner: Any) -> None:
    keep = post_idea(board, ANA, "Dark mode for the app")
    vote(keep, BEN)
    dup = post_idea(board, CAL, "Night theme please")
    vote(dup, BEN)  # Ben wanted both: he counts once after the merge
    comment(dup, CAL, "My eyes hurt")

    merge_ideas(dup, keep, by=owner)

    supporters = IdeaSupporter.objects.filter(idea=keep)
    assert sorted(s.customer.display_name for s in supporters) == [
        "Ana Lima",
        "Ben Ode",
        "Cal Diaz",
    ]
    assert not IdeaSupporter.objects.filter(idea=dup).exists()
    assert keep.comments.count() == 1
    dup.refresh_from_db()
    assert dup.status == IdeaStatus.DUPLICATE
    assert dup.duplicate_of == keep
    assert IdeaStatusChange.objects.get(idea=dup).after == IdeaStatus.DUPLICATE


def test_an_idea_cannot_be_merged_into_itself_or_twice(board: Any, owner: Any) -> None:
    a = post_idea(board, ANA, "Dark mode for the app")
    b = post_idea(board, BEN, "Night theme please")
    c = post_idea(board, CAL, "Black background")

    with pytest.raises(DomainError, match="itself"):
        merge_ideas(a, a, by=owner)
    merge_ideas(b, a, by=owner)
    with pytest.raises(DomainError, match="already"):
        merge_ideas(b, c, by=owner)
    with pytest.raises(DomainError, match="itself merged"):
        merge_ideas(c, b, by=owner)


def test_a_merged_idea_takes_no_more_votes_or_status(board: Any, owner: Any, now: Any) -> None:
    a = post_idea(board, ANA, "Dark mode for the app")
    b = post_idea(board, BEN, "Night theme please")
    merge_ideas(b, a, by=owner)
    b.refresh_from_db()

    with pytest.raises(DomainError):
        vote(b, CAL)
    with pytest.raises(DomainError):
        set_status(b, IdeaStatus.PLANNED, by=owner, now=now)
