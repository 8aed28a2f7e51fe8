"""Full-text search over message text: an FTS5 index kept by triggers on SQLite, a GIN
expression index on PostgreSQL. The SQL differs by database, so it is chosen at run time."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SQLITE_FORWARD = (
    "CREATE VIRTUAL TABLE message_fts USING fts5(text, content='conversations_message', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER message_fts_insert AFTER INSERT ON conversations_message BEGIN "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER message_fts_delete AFTER DELETE ON conversations_message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER message_fts_update AFTER UPDATE OF text ON conversations_message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
)
SQLITE_BACKWARD = (
    "DROP TRIGGER IF EXISTS message_fts_update",
    "DROP TRIGGER IF EXISTS message_fts_delete",
    "DROP TRIGGER IF EXISTS message_fts_insert",
    "DROP TABLE IF EXISTS message_fts",
)
# Must match the expression django.contrib.postgres's SearchVector("text", config="simple")
# compiles to, or the planner will not use the index.
POSTGRES_FORWARD = (
    "CREATE INDEX message_text_search ON conversations_message USING gin "
    "(to_tsvector('simple'::regconfig, COALESCE(text, '')))",
)
POSTGRES_BACKWARD = ("DROP INDEX IF EXISTS message_text_search",)


def _run(statements: dict[str, tuple[str, ...]]):  # type: ignore[no-untyped-def]
    def run(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for statement in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("conversations", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
