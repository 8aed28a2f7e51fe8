"""Reads of messages and conversations for one organization."""

from __future__ import annotations

from django.db.models import QuerySet

from earful.conversations.models import Message
from earful.conversations.search import newest_matches
from earful.org.models import Organization


def list_messages(organization: Organization, *, text: str = "") -> QuerySet[Message]:
    """The organization's messages, newest first; with a query, its newest SEARCH_LIMIT matches."""
    messages = Message.objects.filter(organization=organization)
    if text.strip():
        messages = newest_matches(messages, organization.pk, text)
    return messages.select_related("channel", "identity", "conversation").order_by(
        "-created_at", "-id"
    )
