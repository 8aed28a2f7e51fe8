"""New staff in training: whether their work needs approval, and who may approve it.

Replies (earful.inbox.reviews) and posts (earful.publishing) both ask here, so the
rule "a trainee's work waits for their named reviewer, else any manager or admin"
lives in one place.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from earful.org.models import Membership, Role

REVIEWER_ROLES = (Role.MANAGER, Role.ADMIN)


def needs_approval(membership: Membership | None) -> bool:
    """Whether this member's replies and posts are held for a reviewer before they go out."""
    return membership is not None and membership.in_training


def reviewers_for(membership: Membership) -> QuerySet[Membership]:
    """The memberships that may approve this trainee's work: the named reviewer, else managers."""
    others = Membership.objects.filter(organization_id=membership.organization_id).exclude(
        pk=membership.pk
    )
    if membership.reviewer_id is not None:
        return others.filter(user_id=membership.reviewer_id).select_related("user")
    return others.filter(role__in=REVIEWER_ROLES).select_related("user")


def may_review(reviewer: Membership, trainee: Membership) -> bool:
    """Whether `reviewer` may approve or send back `trainee`'s work.

    The named reviewer may; managers and admins always may (a named reviewer can be away).
    Nobody approves their own work.
    """
    if reviewer.organization_id != trainee.organization_id or reviewer.pk == trainee.pk:
        return False
    if reviewer.role in REVIEWER_ROLES:
        return True
    return trainee.reviewer_id is not None and reviewer.user_id == trainee.reviewer_id


def membership_of(user: User | AnonymousUser | None, organization_id: int) -> Membership | None:
    """The user's membership in the organization, or None (anonymous or not a member)."""
    if not isinstance(user, User):
        return None
    return (
        Membership.objects.filter(organization_id=organization_id, user=user)
        .select_related("user", "organization")
        .first()
    )
