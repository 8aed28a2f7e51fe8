"""Fetching a channel for a user: 404 for missing and forbidden alike."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404

from earful.channels.models import BlockRule, Channel
from earful.org.access import access_organization
from earful.org.models import Membership, Role


def access_manager(user: User | AnonymousUser, org_slug: str) -> Membership:
    """The user's membership if they may manage channels (admin or manager), else 404."""
    membership = access_organization(user, org_slug)
    if membership.role not in (Role.ADMIN, Role.MANAGER):
        raise Http404("no such organization")
    return membership


def access_block_rule(user: User | AnonymousUser, org_slug: str, code: str) -> BlockRule:
    """The organization's block rule with that code, for a user who may manage it."""
    membership = access_manager(user, org_slug)
    try:
        key = uuid.UUID(code)
    except ValueError:
        raise Http404("no such rule") from None
    rule = BlockRule.objects.filter(organization=membership.organization, code=key).first()
    if rule is None:
        raise Http404("no such rule")
    return rule


def access_channel(
    user: User | AnonymousUser, org_slug: str, code: str, *, manage: bool = False
) -> Channel:
    """The organization's channel with that code, if the user may see it (or manage it)."""
    membership = access_organization(user, org_slug)
    if manage and membership.role not in (Role.ADMIN, Role.MANAGER):
        raise Http404("no such channel")
    try:
        key = uuid.UUID(code)
    except ValueError:
        raise Http404("no such channel") from None
    channel = Channel.objects.filter(organization=membership.organization, code=key).first()
    if channel is None:
        raise Http404("no such channel")
    return channel
