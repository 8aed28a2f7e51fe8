"""Feedback objects for the tenancy walk: a value for each URL parameter its routes add."""

from __future__ import annotations

import uuid
from typing import Any

PARAMETERS: frozenset[str] = frozenset({"idea", "comment"})


def make_values(organization: Any, owner: Any) -> dict[str, str]:
    """Values for PARAMETERS, made in the organization of the walk."""
    from earful.feedback.ideas import create_idea

    # No board yet: the walk takes the organization's only channel, and a board adds one.
    idea = create_idea(organization, "Seat picking in the app", by=owner)
    # Comment routes only take POST, answered 405 to a member's GET before any lookup.
    return {"idea": str(idea.number), "comment": str(uuid.uuid4())}
