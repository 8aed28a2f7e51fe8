"""Reads of messages and conversations for one organization."""

from __future__ import annotations

from django.db.models import QuerySet

from earful.conversations.models import Message
from earful.conversations.search import newest_matches
from earful.org.models import Organization


def list_messages(organization: Organization, *, text: str = "") -> QuerySet[Message]:
    """The organization's messages, newest first; with a query, its newest SEARCH_LIMIT matches.

    Matches come in the order they were stored (newest first), the order the search found
    them in: sorting them by their own dates instead lets the database walk all messages
    by date looking for the few matches (bench data has dates unrelated to ids).
    """
    messages = Message.objects.filter(organization=organization).select_related(
        "channel", "identity", "conversation"
    )
    if text.strip():
        return newest_matches(messages, organization.pk, text).order_by("-id")
    return messages.order_by("-created_at", "-id")
