"""Who works on what: fair round-robin auto-assignment with capacity, and manual assignment.

Fair means: the oldest waiting conversation goes first, to the available agent who was given
one longest ago, among those below their capacity of open conversations (Chatwoot #13050,
Zammad #854). Absent agents and full agents are skipped, not queued for.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Count, F

from earful.conversations.models import Conversation, Status
from earful.errors import DomainError
from earful.org.events import record_event
from earful.org.models import Membership, Organization, Role

Actor = User | AnonymousUser | None
ASSIGNABLE_ROLES = (Role.AGENT, Role.MANAGER)
CLOSED = (Status.RESOLVED, Status.MERGED)


def open_load(organization: Organization) -> Counter[int]:
    """How many open conversations each user of the organization is assigned."""
    rows = (
        Conversation.objects.filter(organization=organization, assignee__isnull=False)
        .exclude(status__in=CLOSED)
        .values("assignee")
        .annotate(n=Count("pk"))
    )
    return Counter({row["assignee"]: row["n"] for row in rows})


@transaction.atomic
def auto_assign(organization: Organization, *, now: datetime) -> list[Conversation]:
    """Give unassigned open conversations, oldest first, to available agents in turn."""
    agents = list(
        Membership.objects.select_for_update()
        .filter(organization=organization, role__in=ASSIGNABLE_ROLES, available=True)
        .select_related("user")
        .order_by("pk")
    )
    load = open_load(organization)
    waiting = (
        Conversation.objects.filter(organization=organization, assignee__isnull=True)
        .exclude(status__in=CLOSED)
        .order_by(F("waiting_since").asc(nulls_last=True), "started_at", "number")
    )
    assigned: list[Conversation] = []
    for conversation in waiting:
        free = [m for m in agents if load[m.user_id] < m.capacity]
        if not free:
            break
        # Never assigned sorts first; then whoever had a turn longest ago.
        pick = min(free, key=lambda m: (m.last_assigned_at is not None, m.last_assigned_at, m.pk))
        pick.last_assigned_at = now
        pick.save(update_fields=["last_assigned_at"])
        load[pick.user_id] += 1
        conversation.assignee = pick.user
        conversation.save(update_fields=["assignee"])
        record_event(
            organization,
            "conversation.assigned",
            target=conversation,
            before={"assignee": None},
            after={"assignee": pick.user.get_username(), "auto": True},
        )
        assigned.append(conversation)
    return assigned


@transaction.atomic
def assign(conversation: Conversation, assignee: Membership | None, *, by: Actor) -> Conversation:
    """Assign (or reassign, or with None unassign) a conversation to a member."""
    if assignee is not None and assignee.organization_id != conversation.organization_id:
        raise DomainError("that person is not a member of this organization")
    before = conversation.assignee.get_username() if conversation.assignee else None
    conversation.assignee = assignee.user if assignee is not None else None
    conversation.save(update_fields=["assignee"])
    record_event(
        conversation.organization,
        "conversation.assigned",
        actor=by,
        target=conversation,
        before={"assignee": before},
        after={"assignee": assignee.user.get_username() if assignee else None, "auto": False},
    )
    return conversation


@transaction.atomic
def set_availability(membership: Membership, available: bool, *, by: Actor) -> Membership:
    """Mark a member present or absent for auto-assignment."""
    before = membership.available
    membership.available = available
    membership.save(update_fields=["available"])
    record_event(
        membership.organization,
        "membership.availability",
        actor=by,
        target=membership,
        before={"available": before},
        after={"available": available},
    )
    return membership
