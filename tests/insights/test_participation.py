"""All staff engaged, no silos: who took part, hand-offs answered, round trip, reported back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from earful.inbox.handoffs import hand_off, mark_fixed, report_back
from earful.inbox.workflow import add_note
from earful.insights import social
from earful.insights.tables import Window
from earful.org.models import Department, Role
from earful.org.services import add_member
from tests.insights.conftest import World


def test_people_beyond_the_social_team_and_hand_offs_are_counted(world: World, owner: Any) -> None:
    organization = world.x.organization
    it = Department.objects.get(organization=organization, slug="it")
    legal = Department.objects.get(organization=organization, slug="legal")
    ivy = add_member(organization, "ivy@acme.example", role=Role.CONTRIBUTOR, department=it).user
    now = timezone.now()
    add_note(world.mid, "checking the bill", by=owner)
    fixed = hand_off(world.mid, it, "is the bill wrong?", by=owner, now=now)
    hand_off(world.small, legal, "refund allowed?", by=owner, now=now)  # never answered
    mark_fixed(fixed, "yes, refunded", by=ivy, now=fixed.created_at + timedelta(minutes=30))
    window = Window(organization, now - timedelta(days=1), now + timedelta(days=1))

    who = social.participation(window)
    # owner (note) and ivy (answered a hand-off, in IT: beyond the social team).
    assert (who.people, who.beyond_social_team) == (2, 1)
    assert (who.handoffs, who.handoffs_answered) == (2, 1)
    assert who.handoff_round_trip is not None
    assert round(who.handoff_round_trip.median / 60, 1) == 30.0
    assert (who.fixed, who.reported_back) == (1, 0)

    fixed.refresh_from_db()
    report_back(fixed, "We refunded the second charge.", by=owner, now=now)
    assert social.participation(window).reported_back == 1
