"""Fetching a conversation, message or event of an organization: 404 if missing or not theirs."""

from __future__ import annotations

import uuid

from django.http import Http404
from django.shortcuts import get_object_or_404

from earful.conversations.models import Conversation, Handoff, Message
from earful.org.models import Event, Organization


def parse_code(code: str) -> uuid.UUID:
    """An opaque code from a URL; anything that is not one is simply not found."""
    try:
        return uuid.UUID(code)
    except ValueError:
        raise Http404("not found") from None


def access_conversation(organization: Organization, number: int) -> Conversation:
    """The organization's conversation with that number."""
    return get_object_or_404(Conversation, organization=organization, number=number)


def access_message(organization: Organization, code: str) -> Message:
    """The organization's message with that code."""
    return get_object_or_404(Message, organization=organization, code=parse_code(code))


def access_event(organization: Organization, code: str) -> Event:
    """The organization's event with that code."""
    return get_object_or_404(Event, organization=organization, code=parse_code(code))


def access_handoff(organization: Organization, code: str) -> Handoff:
    """The organization's hand-off with that code."""
    return get_object_or_404(
        Handoff.objects.select_related("conversation__organization", "to_department"),
        organization=organization,
        code=parse_code(code),
    )
