"""Fetching ideas, comments and boards: 404 for missing and forbidden alike."""

from __future__ import annotations

from django.db.models import Count
from django.shortcuts import get_object_or_404

from earful.conversations.access import parse_code
from earful.feedback.models import Board, FeedbackRequest, Idea, IdeaComment, Visibility
from earful.org.models import Organization


def access_idea(organization: Organization, number: int) -> Idea:
    """The organization's idea with that number (any visibility: staff see everything)."""
    return get_object_or_404(
        Idea.objects.select_related("organization", "author", "duplicate_of"),
        organization=organization,
        number=number,
    )


def access_comment(organization: Organization, code: str) -> IdeaComment:
    """The organization's board comment with that code."""
    return get_object_or_404(
        IdeaComment.objects.select_related("idea__organization"),
        organization=organization,
        code=parse_code(code),
    )


def public_board(slug: str) -> Board:
    """A board by its public slug, or 404."""
    return get_object_or_404(Board.objects.select_related("organization", "channel"), slug=slug)


def public_idea(board: Board, number: int) -> Idea:
    """An idea the public may see (approved and not hidden), or 404."""
    return get_object_or_404(
        Idea.objects.select_related("duplicate_of", "organization").annotate(
            votes=Count("supporters")
        ),
        organization_id=board.organization_id,
        number=number,
        visibility=Visibility.SHOWN,
    )


def access_request(board: Board, token: str) -> FeedbackRequest:
    """The feedback request behind a personal link on this board, or 404."""
    return get_object_or_404(
        FeedbackRequest.objects.select_related("customer", "organization"),
        organization_id=board.organization_id,
        token=token,
    )
