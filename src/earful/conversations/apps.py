from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


class ConversationsConfig(AppConfig):
    name = "earful.conversations"
    label = "conversations"

    def ready(self) -> None:
        post_migrate.connect(_ensure_search, sender=self)


def _ensure_search(using: str = "default", **kwargs: Any) -> None:
    from earful.conversations.search import ensure_sqlite_search

    ensure_sqlite_search(connections[using])
