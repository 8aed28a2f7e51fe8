"""Feedback objects for the tenancy walk: a value for each URL parameter its routes add."""

from __future__ import annotations

from typing import Any

PARAMETERS: frozenset[str] = frozenset({"idea", "comment"})


def make_values(organization: Any, owner: Any) -> dict[str, str]:
    """Values for PARAMETERS, made in the organization of the walk."""
    from earful.feedback.board import board_for, checked_person, comment
    from earful.feedback.ideas import create_idea

    board_for(organization)
    idea = create_idea(organization, "Seat picking in the app", by=owner)
    remark = comment(idea, checked_person("Ann Lee", "ann@example.com"), "Yes please")
    return {"idea": str(idea.number), "comment": str(remark.code)}
