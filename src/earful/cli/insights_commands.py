"""Commands of the insights domain."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the insights commands to the app and its benchmarks to `earful bench`."""
    bench.command("insights")(bench_insights)


def _throwaway_database() -> str | None:
    """Point Django at a fresh database: SQLite in a temp dir, or a new PostgreSQL database
    on the server of DATABASE_URL. Returns the PostgreSQL database's name, to drop later."""
    os.environ["EARFUL_HOME"] = tempfile.mkdtemp(prefix="earful-bench-")
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    import psycopg

    name = f"earful_bench_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = url.rpartition("/")
    os.environ["DATABASE_URL"] = f"{base}/{name}"
    return name


def _drop(url: str, name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def bench_insights(
    messages: Annotated[int, typer.Option(help="How many messages to seed.")] = 100_000,
    days: Annotated[int, typer.Option(help="Over how many days they spread.")] = 90,
    repeats: Annotated[int, typer.Option(help="Timed runs of each query.")] = 5,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Seed N messages into a throwaway database and time every dashboard query and page."""
    from earful.cli.main import setup_django

    original = os.environ.get("DATABASE_URL", "")
    dropped = _throwaway_database()
    try:
        setup_django(migrate=True)
        from earful.bench.insights import run

        result = run(messages=messages, days=days, repeats=repeats)
    finally:
        if dropped:
            _drop(original, dropped)
    if json_output:
        typer.echo(json.dumps(result))
        return
    _print(result)


def _print(result: dict[str, Any]) -> None:
    console = Console()
    table = Table(
        title=f"insights over the last 30 days: {result['messages_in_30_days']:,} of "
        f"{result['messages']:,} messages ({result['days']} days) on {result['database']}"
    )
    for column in ("query", "p50 ms", "p99 ms"):
        table.add_column(column)
    for name, timing in result["timings"].items():
        table.add_row(name, f"{timing['p50_ms']:.1f}", f"{timing['p99_ms']:.1f}")
    console.print(table)
    console.print(f"seeded in {result['seed_seconds']} s; {result['repeats']} timed runs each")
