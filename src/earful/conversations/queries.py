"""Reads of messages and conversations for one organization."""

from __future__ import annotations

from django.db.models import QuerySet

from earful.conversations.models import Message
from earful.conversations.search import filter_by_text
from earful.org.models import Organization


def list_messages(organization: Organization, *, text: str = "") -> QuerySet[Message]:
    """The organization's messages, newest first, optionally matching a full-text query."""
    messages = Message.objects.filter(organization=organization)
    if text.strip():
        messages = filter_by_text(messages, text)
    return messages.select_related("channel", "identity", "conversation").order_by(
        "-created_at", "-id"
    )
