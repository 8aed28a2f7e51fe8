"""A throwaway database for a benchmark: it never touches the configured one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


@contextmanager
def throwaway_database(kind: str, server: str = DEFAULT_POSTGRES) -> Iterator[None]:
    """Point this process (before Django starts) at a new SQLite file or Postgres database.

    The Postgres database is created on `server` and dropped afterwards; the SQLite file
    lives in a new EARFUL_HOME under the temp directory.
    """
    if kind not in {"sqlite", "postgres"}:
        raise ValueError(f"unknown database {kind!r}: use sqlite or postgres")
    os.environ["EARFUL_HOME"] = tempfile.mkdtemp(prefix="earful-bench-")
    os.environ.pop("DATABASE_URL", None)
    if kind == "sqlite":
        yield
        return
    name = f"earful_bench_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = f"{server.rsplit('/', 1)[0]}/{name}"
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
