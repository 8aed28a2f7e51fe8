"""A throwaway database for a benchmark: it never touches the configured one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


@contextmanager
def throwaway_database(kind: str, server: str = DEFAULT_POSTGRES) -> Iterator[None]:
    """Point this process (before Django starts) at a new SQLite file or Postgres database.

    The Postgres database is created on `server` and dropped afterwards; the SQLite file
    lives in a new EARFUL_HOME under the temp directory, removed afterwards.
    """
    if kind not in {"sqlite", "postgres"}:
        raise ValueError(f"unknown database {kind!r}: use sqlite or postgres")
    home = tempfile.mkdtemp(prefix="earful-bench-")
    os.environ["EARFUL_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    name = f"earful_bench_{os.getpid()}"
    if kind == "postgres":
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        os.environ["DATABASE_URL"] = f"{server.rsplit('/', 1)[0]}/{name}"
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        if kind == "postgres":
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        # A million-message SQLite file is about a gigabyte: never leave one behind.
        shutil.rmtree(home, ignore_errors=True)
