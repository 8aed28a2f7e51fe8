"""The earful command line: `earful --help` lists every subcommand."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from earful.cli import (
    bench_commands,
    feedback_commands,
    insights_commands,
    listen_commands,
    pipeline_commands,
    triage_commands,
)

app = typer.Typer(
    help="earful: hear what customers say about you on every channel, and answer every one.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


def setup_django(*, migrate: bool = False) -> None:
    """Configure Django from the environment and, if asked, bring the database schema up to date."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "earful.settings")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (SQLite under EARFUL_HOME, or DATABASE_URL)."""
    setup_django(migrate=True)
    console.print("database is up to date")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    threads: Annotated[int, typer.Option(help="Worker threads of the web server.")] = 8,
    listen: Annotated[
        bool, typer.Option("--listen/--no-listen", help="Also poll and stream the channels.")
    ] = True,
) -> None:
    """Serve the web app and the API (waitress), deliver replies, check SLAs, listen."""
    setup_django(migrate=True)
    from earful.inbox.tick import start_ticking

    start_ticking()
    if listen:
        from earful.channels.scheduler import start_in_background

        start_in_background()
    _serve(host, port, threads)


def _serve(host: str, port: int, threads: int) -> None:
    from waitress import serve as waitress_serve

    from earful.wsgi import application

    waitress_serve(application, host=host, port=port, threads=threads, ident="earful")


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(help="The file to import.", exists=True, dir_okay=False)],
    file_format: Annotated[
        str, typer.Option("--format", help="twcs (Customer Support on Twitter), jsonl or csv.")
    ] = "jsonl",
    org: Annotated[str, typer.Option(help="Organization slug; created if missing.")] = "default",
    channel: Annotated[
        str | None, typer.Option(help="Channel name; created if missing (default by format).")
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="Kind of a new channel (x, email, rss, ...).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Records stored per transaction.")] = 1000,
) -> None:
    """Import a file of messages, streaming, in constant memory; safe to re-run (idempotent)."""
    from earful.channels.files import FileFormat

    try:
        fmt = FileFormat(file_format)
    except ValueError:
        raise typer.BadParameter(
            f"unknown format {file_format!r}; use twcs, jsonl or csv", param_hint="--format"
        ) from None
    setup_django(migrate=True)
    from earful.cli.importing import run_import

    started = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task = progress.add_task("import", total=path.stat().st_size)
        try:
            summary = run_import(
                path,
                fmt,
                org_slug=org,
                channel_name=channel,
                channel_kind=kind,
                batch_size=batch_size,
                on_progress=lambda done: progress.update(task, completed=done),
            )
        except ValueError as exc:
            console.print(f"[red]cannot import {path}: {exc}")
            raise typer.Exit(2) from None
    elapsed = time.perf_counter() - started
    _print_import_summary(summary, elapsed)


def _print_import_summary(summary: object, elapsed: float) -> None:
    from earful.cli.importing import ImportSummary

    assert isinstance(summary, ImportSummary)
    report = summary.report
    table = Table(title=f"import into {summary.organization} / {summary.channel}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("records read", f"{summary.records:,}")
    table.add_row("imported (new)", f"{report.stored:,}")
    table.add_row("duplicates (already stored)", f"{report.duplicates:,}")
    table.add_row("rejected", f"{summary.rejected:,}")
    table.add_row("blocked at the door", f"{report.blocked:,}")
    table.add_row("processed (triaged, threaded)", f"{report.processed:,}")
    if report.queued:
        table.add_row("sent to the workers", f"{report.queued:,}")
    table.add_row("replies linked to their parent", f"{summary.linked_replies:,}")
    table.add_row("seconds", f"{elapsed:.1f}")
    Console().print(table)
    for rejection in summary.first_rejections:
        console.print(
            f"record {rejection.record_number} ({rejection.external_id or 'no id'}): "
            f"{rejection.reason}",
            markup=False,
            highlight=False,
        )
    if summary.rejected > len(summary.first_rejections):
        console.print(f"... and {summary.rejected - len(summary.first_rejections):,} more rejected")


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    seed: Annotated[int, typer.Option(help="Seed of the traffic generator.")] = 7,
    threads: Annotated[int, typer.Option(help="Customer threads to generate.")] = 1500,
    serve_app: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the app after creating the data.")
    ] = True,
) -> None:
    """Create a demo organization with 30 days of generated traffic, then serve the app."""
    setup_django(migrate=True)
    from earful.demo.setup import create_demo

    with console.status("generating and ingesting demo traffic..."):
        info = create_demo(seed=seed, threads=threads)
    console.print(
        f"demo organization [bold]{info.organization.name}[/]: "
        f"{info.report.stored:,} new messages ({info.report.duplicates:,} already there)"
    )
    console.print(f"open http://{host}:{port}/  and sign in as {info.email} / {info.password}")
    if serve_app:
        _serve(host, port, 8)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def manage(ctx: typer.Context) -> None:
    """Run a Django management command (e.g. `earful manage createsuperuser`)."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["earful manage", *ctx.args])


for command, name in (
    (listen_commands.listen, "listen"),
    (listen_commands.channels, "channels"),
    (listen_commands.channel_add, "channel-add"),
    (listen_commands.channel_check, "channel-check"),
    (listen_commands.listening_query, "listening-query"),
    (pipeline_commands.worker, "worker"),
    (pipeline_commands.dead_letters, "dead-letters"),
):
    app.command(name, help=command.__doc__)(command)
bench = typer.Typer(
    help="Measure speed and quality; prints a table, or one JSON object with --json."
)
app.add_typer(bench, name="bench")
app.command(help=triage_commands.triage.__doc__)(triage_commands.triage)
app.command(help=triage_commands.train.__doc__)(triage_commands.train)
bench.command("quality", help=triage_commands.bench_quality.__doc__)(triage_commands.bench_quality)
bench.command("pipeline", help=pipeline_commands.bench_pipeline.__doc__)(
    pipeline_commands.bench_pipeline
)
bench.command("inbox", help=bench_commands.bench_inbox.__doc__)(bench_commands.bench_inbox)
bench.command("promo", help=bench_commands.bench_promo.__doc__)(bench_commands.bench_promo)
feedback_commands.register(app, bench)
insights_commands.register(app, bench)


@bench.command("stitching")
def bench_stitching(
    people: Annotated[int, typer.Option(help="People in the generated corpus.")] = 400,
    seed: Annotated[int, typer.Option(help="Seed of the corpus generator.")] = 11,
    twcs: Annotated[
        Path | None, typer.Option(help="Also thread this twcs file and report it.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Precision and recall of identity links and conversation joins on a corpus with truth."""
    import json

    from earful.bench.throwaway import throwaway_database

    # A throwaway embedded database: the benchmark never touches the configured one.
    with throwaway_database("sqlite"):
        setup_django(migrate=True)
        from earful.bench.stitching import run

        result = run(people=people, seed=seed, twcs=twcs)
    if json_output:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"stitching on {result['people']} generated people (seed {seed})")
    for column in ("what", "precision", "recall", "pairs true / predicted / correct"):
        table.add_column(column)
    for name in ("identity_links", "conversation_joins"):
        score = result[name]
        table.add_row(
            name.replace("_", " "),
            f"{score['precision']:.3f}",
            f"{score['recall']:.3f}",
            f"{score['true_pairs']} / {score['predicted_pairs']} / {score['correct_pairs']}",
        )
    Console().print(table)
    Console().print(
        f"{result['identities']} identities, {result['messages']} messages ingested in "
        f"{result['ingest_seconds']} s; customers mixing two people: "
        f"{result['customers_mixing_people']}; suggestions: {result['suggestions']} "
        f"({result['suggestions_right']} right); join rules: {result['join_rules']}"
    )
    if "twcs" in result:
        Console().print(f"twcs: {result['twcs']}")


def main() -> None:
    """Entry point for `python -m earful`."""
    app(prog_name="earful")


if __name__ == "__main__":
    main()
