"""Fetching a canned reply, playbook or destination of an organization: 404 if missing or not
theirs."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from earful.conversations.access import parse_code
from earful.inbox.models import CannedReply, Destination
from earful.org.models import Organization


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
