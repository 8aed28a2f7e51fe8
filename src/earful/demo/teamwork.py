"""The demo team at work: staff answer, hand product bugs to IT and legal threats to Legal,
the departments fix them, and the agents report back, through the same services as the
inbox, so the scorecard's "all staff" and "no silos" lines have something to measure."""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth.models import User

from earful.conversations.models import Conversation, Direction, Handoff
from earful.errors import DomainError
from earful.inbox import handoffs
from earful.inbox.replies import send_reply_to_customer
from earful.org.models import Department, Organization, Role
from earful.org.services import add_member

DEPARTMENT_STAFF = (("ivy@earful.example", "it"), ("lee@earful.example", "legal"))
HANDOFFS = 24
TOLD_SHARE = 0.75


def seed_teamwork(
    organization: Organization, agents: list[User], password: str, *, seed: int
) -> int:
    """Have the team answer waiting complaints and hand some to departments (once); returns
    how many hand-offs were made."""
    if Handoff.objects.filter(organization=organization).exists():
        return 0
    rng = random.Random(seed)  # noqa: S311 - demo traffic, not secrets
    departments = {
        slug: Department.objects.get(organization=organization, slug=slug)
        for _, slug in DEPARTMENT_STAFF
    }
    fixers = {
        slug: add_member(
            organization,
            email,
            role=Role.CONTRIBUTOR,
            password=password,
            department=departments[slug],
        ).user
        for email, slug in DEPARTMENT_STAFF
    }
    waiting = list(
        Conversation.objects.filter(
            organization=organization,
            waiting_since__isnull=False,
            messages__direction=Direction.IN,
            messages__complaint=True,
        )
        .distinct()
        .order_by("waiting_since")[: HANDOFFS * 2]
    )
    made = 0
    for conversation in waiting:
        if made == HANDOFFS:
            break
        agent = rng.choice(agents)
        asked = conversation.waiting_since
        assert asked is not None
        topic = (
            conversation.messages.filter(direction=Direction.IN)
            .values_list("topic", flat=True)
            .first()
        )
        slug = "legal" if rng.random() < 0.2 else "it"
        try:
            replied = asked + timedelta(minutes=rng.randint(5, 90))
            send_reply_to_customer(
                conversation,
                "Sorry about this. I've passed it to our team and will update you here.",
                by=agent,
                now=replied,
            )
            handoff = handoffs.hand_off(
                conversation,
                departments[slug],
                f"Customer reports a {topic or 'problem'}: can you look?",
                by=agent,
                now=replied,
            )
        except DomainError:
            continue
        made += 1
        if rng.random() < 0.8:
            fixed = replied + timedelta(hours=rng.uniform(1, 30))
            handoffs.mark_fixed(handoff, "Fixed in the next release.", by=fixers[slug], now=fixed)
            if rng.random() < TOLD_SHARE:
                handoff.refresh_from_db()
                handoffs.report_back(
                    handoff,
                    handoffs.report_back_draft(handoff),
                    by=agent,
                    now=fixed + timedelta(minutes=rng.randint(10, 240)),
                )
    return made
