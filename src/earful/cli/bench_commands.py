"""`earful bench inbox`: the team's reads at a million messages (see earful.bench.inbox).

Plain typer-compatible functions; earful.cli.main registers them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from earful.bench.throwaway import DEFAULT_POSTGRES, throwaway_database


def bench_inbox(
    messages: Annotated[int, typer.Option(help="Messages to seed.")] = 1_000_000,
    database: Annotated[str, typer.Option(help="sqlite or postgres (a throwaway database).")] = (
        "sqlite"
    ),
    postgres: Annotated[
        str, typer.Option(help="Server to create the throwaway database on.")
    ] = DEFAULT_POSTGRES,
    repeats: Annotated[int, typer.Option(help="Timed repeats of each read.")] = 100,
    arrivals: Annotated[int, typer.Option(help="New messages that arrive after seeding.")] = 1000,
    rate: Annotated[float, typer.Option(help="Their arrivals per second.")] = 50.0,
    model: Annotated[str, typer.Option(help="Triage model of the arrivals.")] = "best",
    load_seconds: Annotated[
        int, typer.Option(help="HTTP load run on loopback with locust (0: none).")
    ] = 60,
    users: Annotated[int, typer.Option(help="Concurrent agents of the load run.")] = 200,
    threads: Annotated[int, typer.Option(help="Threads of the served app in the load run.")] = 8,
    seeded: Annotated[
        str,
        typer.Option(
            help="Keep the data: an EARFUL_HOME directory or a postgres:// URL, seeded on the "
            "first run and measured as it is on the next (instead of a throwaway database)."
        ),
    ] = "",
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Inbox, conversation, search and dashboard latency at scale, plus an HTTP load run."""
    if model not in {"fast", "best"}:
        raise typer.BadParameter("fast or best", param_hint="--model")
    os.environ["EARFUL_TRIAGE_MODEL"] = model
    if seeded:
        database = "postgres" if seeded.startswith(("postgres://", "postgresql://")) else "sqlite"
    with _kept_database(seeded) if seeded else throwaway_database(database, postgres):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "earful.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        from earful.bench.inbox import run

        figures = run(
            messages=messages,
            repeats=repeats,
            arrivals=arrivals,
            rate=rate,
            load_seconds=load_seconds,
            users=users,
            threads=threads,
        )
    figures["database"] = database
    if json_output:
        typer.echo(json.dumps(figures))
        return
    _print(figures)


@contextmanager
def _kept_database(seeded: str) -> Iterator[None]:
    """Point this process (before Django starts) at a database kept between runs."""
    if seeded.startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = seeded
    else:
        os.environ["EARFUL_HOME"] = str(Path(seeded).resolve())
        os.environ.pop("DATABASE_URL", None)
    yield


def _print(figures: dict[str, Any]) -> None:
    console = Console()
    table = Table(
        title=f"{figures['database']}: {figures['messages']:,} messages, "
        f"{figures['conversations']:,} conversations (seeded in {figures['seed_seconds']} s)"
    )
    for column in ("read", "p50 ms", "p99 ms"):
        table.add_column(column, justify="right" if column != "read" else "left")
    for name, spent in figures["reads_ms"].items():
        table.add_row(name, f"{spent['p50']:.1f}", f"{spent['p99']:.1f}")
    arrivals = figures["arrival_to_inbox_ms"]
    table.add_row(
        f"arrival to inbox ({arrivals['messages']} at {arrivals['rate']}/s)",
        f"{arrivals['p50']:.1f}",
        f"{arrivals['p99']:.1f}",
    )
    console.print(table)
    if "http_load" in figures:
        console.print(f"HTTP load: {figures['http_load']}")


def bench_promo(
    twcs: Annotated[
        Path | None,
        typer.Option(
            help="twcs CSV whose brand replies are the engaging examples "
            "(default: ../shared/data/twcs/twcs_head.csv)."
        ),
    ] = None,
    show_misses: Annotated[
        bool, typer.Option(help="List the dev half's misses (never the held-out half's).")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Precision, recall, F1 and accuracy of the promotional-or-engaging rule, per half."""
    from earful.bench.promo import run
    from earful.triage.training.data import default_data_dir

    if twcs is None:
        twcs = default_data_dir() / "twcs" / "twcs_head.csv"
    if not twcs.is_file():
        raise typer.BadParameter(
            f"{twcs} not found (see ../shared/data/README.md)", param_hint="--twcs"
        )
    figures = run(twcs, show_misses=show_misses)
    if json_output:
        typer.echo(json.dumps(figures))
        return
    console = Console()
    table = Table(title="promotional (positive) or engaging")
    for column in ("half", "promo", "engaging", "P", "R", "F1", "acc", "TP/FP/FN/TN"):
        table.add_column(column, justify="left" if column == "half" else "right")
    for half in ("dev", "held_out", "all"):
        f = figures[half]
        matrix = "/".join(
            str(f["confusion"][k])
            for k in ("true_positive", "false_positive", "false_negative", "true_negative")
        )
        table.add_row(
            half,
            str(f["promotional"]),
            str(f["engaging"]),
            f"{f['precision']:.3f}",
            f"{f['recall']:.3f}",
            f"{f['f1']:.3f}",
            f"{f['accuracy']:.3f}",
            matrix,
        )
    console.print(table)
    for half in ("dev", "held_out"):
        parts = [
            f"{name}: {s['right']}/{s['posts']} right"
            for name, s in figures[half]["by_source"].items()
        ]
        console.print(f"{half}: " + "; ".join(parts))
    for miss in figures.get("dev_misses", []):
        called = "engaging" if miss["promotional"] else "promotional"
        console.print(f"dev miss (called {called}, {miss['source']}): {miss['text']}", markup=False)
