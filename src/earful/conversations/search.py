"""Full-text search over message text: FTS5 on SQLite, tsvector + GIN on PostgreSQL."""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Max, Q, QuerySet
from django.db.models.expressions import RawSQL

from earful.conversations.models import Message

# The text search configuration of the GIN index; "simple" does not stem, so it treats
# every language alike, as FTS5's unicode61 tokenizer does.
PG_SEARCH_CONFIG = "simple"
_WORD = re.compile(r"\w+", re.UNICODE)
# The inbox and the message list look at no more than the newest this many matches of a
# search: a common word matches hundreds of thousands of messages at scale, and reading
# them all to sort a page of results cannot be fast.
SEARCH_LIMIT = 1000
# PostgreSQL first looks for them among the newest SEARCH_LIMIT * SEARCH_WINDOW messages.
SEARCH_WINDOW = 20

SQLITE_TRIGGERS = {
    "message_fts_insert": "AFTER INSERT ON conversations_message BEGIN "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
    "message_fts_delete": "AFTER DELETE ON conversations_message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "message_fts_update": "AFTER UPDATE OF text ON conversations_message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
}


def ensure_sqlite_search(db: BaseDatabaseWrapper) -> None:
    """Create the FTS5 index and its triggers if missing, and rebuild the index if any were.

    SQLite alters a table by rebuilding it, which drops its triggers, so this runs after
    every migrate rather than once in a migration.
    """
    if db.vendor != "sqlite":
        return
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE name = 'message_fts' OR "
            "(type = 'trigger' AND tbl_name = 'conversations_message')"
        )
        present = {row[0] for row in cursor.fetchall()}
        missing = ({"message_fts"} | set(SQLITE_TRIGGERS)) - present
        if not missing:
            return
        cursor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS message_fts USING fts5(text, "
            "content='conversations_message', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        for name, body in SQLITE_TRIGGERS.items():
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
        cursor.execute("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")


def fts5_query(text: str, *, prefix: bool = True) -> str:
    """Turn typed text into a safe FTS5 query: every word must appear, the last as a prefix."""
    words = _WORD.findall(text)
    if not words:
        return ""
    quoted = [f'"{word}"' for word in words]
    if prefix:
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


def newest_matches(
    messages: QuerySet[Message], organization_id: int, text: str, limit: int = SEARCH_LIMIT
) -> QuerySet[Message]:
    """Narrow messages to the organization's newest `limit` messages matching the query.

    The search index is read newest first and stops at `limit`, so a common word costs
    no more than a rare one: FTS5 walks its rowids backwards; on PostgreSQL the GIN index
    is read for the newest ids first (_newest_postgres_matches). A whole word with
    `limit` matches is not also read as a prefix (see below).
    """
    if connection.vendor == "postgresql":
        return messages.filter(Q(id__in=_newest_postgres_matches(organization_id, text, limit)))
    if not fts5_query(text):
        return messages.none()
    # FTS5 reads a prefix's matches all at once (about 100 ms for a word in 50,000 of a
    # million messages) but a whole word's newest first: when the words as typed already
    # have `limit` matches, those are the newest matches; else the last word is a prefix.
    found = _newest_fts5_matches(fts5_query(text, prefix=False), organization_id, limit)
    if len(found) < limit:
        found = _newest_fts5_matches(fts5_query(text), organization_id, limit)
    return messages.filter(Q(id__in=found))


def _newest_fts5_matches(match: str, organization_id: int, limit: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f.rowid FROM message_fts f JOIN conversations_message m ON m.id = f.rowid "
            "WHERE f.message_fts MATCH %s AND m.organization_id = %s "
            "ORDER BY f.rowid DESC LIMIT %s",
            (match, organization_id, limit),
        )
        return [row[0] for row in cursor.fetchall()]


def _newest_postgres_matches(organization_id: int, text: str, limit: int) -> list[int]:
    """The ids of the newest matches, from the GIN index ANDed with a window of the newest ids.

    A GIN index cannot return rows in id order, and walking the primary key backwards
    computes the tsvector of every message passed; a bitmap of the GIN index ANDed with
    one of the newest ids reads only matching rows. The window grows eightfold until it
    holds `limit` matches or every message.
    """
    query = SearchQuery(text, config=PG_SEARCH_CONFIG, search_type="websearch")
    matching = (
        Message.objects.filter(organization_id=organization_id)
        .annotate(search_vector=SearchVector("text", config=PG_SEARCH_CONFIG))
        .filter(search_vector=query)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    top = Message.objects.aggregate(top=Max("id"))["top"] or 0
    window = limit * SEARCH_WINDOW
    while True:
        found = list(matching.filter(id__gt=top - window)[:limit])
        if len(found) >= limit or window >= top:
            return found
        window *= 8
