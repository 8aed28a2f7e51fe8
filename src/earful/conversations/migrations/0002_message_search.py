"""Full-text search over message text on PostgreSQL: a GIN expression index.

SQLite's FTS5 table and triggers are not created here but after every migrate
(conversations.search.ensure_sqlite_search): SQLite rebuilds a table to alter it, which
drops its triggers, so they must be checked after each schema change anyway."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

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
            _run({"postgresql": POSTGRES_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD}),
        )
    ]
