"""Fetching a conversation, message or event of an organization: 404 if missing or not theirs."""

from __future__ import annotations

import uuid

from django.http import Http404

from earful.conversations.models import Conversation, Message
from earful.org.models import Event, Organization


def parse_code(code: str) -> uuid.UUID:
    """An opaque code from a URL; anything that is not one is simply not found."""
    try:
        return uuid.UUID(code)
    except ValueError:
        raise Http404("not found") from None


def access_conversation(organization: Organization, number: int) -> Conversation:
    """The organization's conversation with that number."""
    try:
        return Conversation.objects.get(organization=organization, number=number)
    except Conversation.DoesNotExist:
        raise Http404("no such conversation") from None


def access_message(organization: Organization, code: str) -> Message:
    """The organization's message with that code."""
    try:
        return Message.objects.get(organization=organization, code=parse_code(code))
    except Message.DoesNotExist:
        raise Http404("no such message") from None


def access_event(organization: Organization, code: str) -> Event:
    """The organization's event with that code."""
    try:
        return Event.objects.get(organization=organization, code=parse_code(code))
    except Event.DoesNotExist:
        raise Http404("no such event") from None
