"""The demo organization's ideas board: a few ideas in every state, with supporters."""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from earful.demo.names import FIRST, LAST
from earful.feedback.board import board_for, checked_person, vote
from earful.feedback.ideas import create_idea, set_status
from earful.feedback.models import Idea, IdeaStatus
from earful.org.models import Organization

IDEAS = (
    (
        "Pick my own seat in the app",
        "Let me choose a seat when I book, not only at check-in.",
        IdeaStatus.SHIPPED,
    ),
    ("Dark mode for the app", "The white screen is blinding on night trips.", IdeaStatus.PLANNED),
    ("Download tickets to the wallet", "So I can board without signal.", IdeaStatus.IN_PROGRESS),
    ("Quiet carriage on weekend trains", "", IdeaStatus.UNDER_REVIEW),
    ("Refund straight to the card", "Vouchers are not a refund.", IdeaStatus.OPEN),
)


def seed_board(organization: Organization, staff: User, *, seed: int = 7) -> int:
    """Open the demo ideas and their votes once (an existing board is left alone)."""
    if Idea.objects.filter(organization=organization).exists():
        return 0
    rng = random.Random(seed)  # noqa: S311 - demo people, not secrets
    board_for(organization)
    for title, details, status in IDEAS:
        idea = create_idea(organization, title, details, by=staff)
        for _ in range(rng.randint(1, 5)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}{rng.randint(1, 99)}@example.com".lower()
            vote(idea, checked_person(f"{first} {last}", email))
        if status != IdeaStatus.OPEN:
            response = "Live for everyone today." if status == IdeaStatus.SHIPPED else None
            now = timezone.now() - timedelta(days=rng.randint(0, 10))
            set_status(idea, status, by=staff, now=now, response=response)
    return len(IDEAS)
