"""Fetching a canned reply, playbook or destination of an organization: 404 if missing or not
theirs."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.shortcuts import get_object_or_404

from earful.conversations.access import parse_code
from earful.errors import DomainError
from earful.inbox.models import CannedReply, Destination
from earful.org.access import access_organization
from earful.org.models import Membership, Organization, Role


def access_playbook(organization: Organization, code: str) -> CannedReply:
    """The organization's canned reply (or playbook) with that code."""
    return get_object_or_404(CannedReply, organization=organization, code=parse_code(code))


def access_destination(organization: Organization, code: str) -> Destination:
    """The organization's department destination with that code."""
    return get_object_or_404(
        Destination.objects.select_related("department"),
        organization=organization,
        code=parse_code(code),
    )


def managing_destinations(user: User | AnonymousUser, org: str) -> Membership:
    """The user's membership, if they may change departments' destinations (managers and
    admins); 404 for an organization that is not theirs, a refusal for other members."""
    membership = access_organization(user, org)
    if membership.role not in (Role.ADMIN, Role.MANAGER):
        raise DomainError("only managers and admins change departments' destinations")
    return membership
