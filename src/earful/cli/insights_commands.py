"""Commands of the insights domain."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from earful.bench.throwaway import DEFAULT_POSTGRES, throwaway_database


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the insights commands to the app and its benchmarks to `earful bench`."""
    bench.command("insights")(bench_insights)


def bench_insights(
    messages: Annotated[int, typer.Option(help="How many messages to seed.")] = 100_000,
    days: Annotated[int, typer.Option(help="Over how many days they spread.")] = 90,
    repeats: Annotated[int, typer.Option(help="Timed runs of each query.")] = 5,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Seed N messages into a throwaway database and time every dashboard query and page.

    The database is SQLite, or a new PostgreSQL database on the server of DATABASE_URL.
    """
    from earful.cli.main import setup_django

    server = os.environ.get("DATABASE_URL", "")
    with throwaway_database("postgres" if server else "sqlite", server or DEFAULT_POSTGRES):
        setup_django(migrate=True)
        from earful.bench.insights import run

        result = run(messages=messages, days=days, repeats=repeats)
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
