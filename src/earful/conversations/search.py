"""Full-text search over message text: FTS5 on SQLite, tsvector + GIN on PostgreSQL."""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from earful.conversations.models import Message

# The text search configuration of the GIN index; "simple" does not stem, so it treats
# every language alike, as FTS5's unicode61 tokenizer does.
PG_SEARCH_CONFIG = "simple"
_WORD = re.compile(r"\w+", re.UNICODE)


def fts5_query(text: str) -> str:
    """Turn typed text into a safe FTS5 query: every word must appear, the last as a prefix."""
    words = _WORD.findall(text)
    if not words:
        return ""
    quoted = [f'"{word}"' for word in words]
    quoted[-1] += "*"
    return " AND ".join(quoted)


def filter_by_text(messages: QuerySet[Message], text: str) -> QuerySet[Message]:
    """Narrow a message queryset to those whose text matches the query."""
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config=PG_SEARCH_CONFIG, search_type="websearch")
        return messages.annotate(
            search_vector=SearchVector("text", config=PG_SEARCH_CONFIG)
        ).filter(search_vector=query)
    match = fts5_query(text)
    if not match:
        return messages.none()
    return messages.filter(
        id__in=RawSQL("SELECT rowid FROM message_fts WHERE message_fts MATCH %s", (match,))
    )
