"""Small typed readers for settings that come from the environment."""

from __future__ import annotations

import os
from pathlib import Path


def env_str(name: str, default: str) -> str:
    """Return the variable's value, or the default when unset or empty."""
    return os.environ.get(name) or default


def env_bool(name: str, *, default: bool) -> bool:
    """Read a yes/no variable; anything but 1/true/yes/on is false."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def read_secret(name: str) -> str | None:
    """Read a secret from NAME, or from the file named by NAME_FILE (container secrets)."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return None


def connection_url() -> str:
    """A URL for the database Django is connected to, for the subprocesses we start."""
    from django.db import connection

    values = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{values['NAME']}"
    password = f":{values['PASSWORD']}" if values.get("PASSWORD") else ""
    host = values["HOST"] or "127.0.0.1"
    return f"postgres://{values['USER']}{password}@{host}:{values['PORT'] or 5432}/{values['NAME']}"
