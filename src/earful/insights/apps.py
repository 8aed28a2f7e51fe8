from django.apps import AppConfig
from django.db.backends.signals import connection_created


class InsightsConfig(AppConfig):
    name = "earful.insights"
    label = "insights"

    def ready(self) -> None:
        """SQLite connections get the hash function the rollups' day signatures use."""
        from earful.insights.rollups import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="earful_hash")
