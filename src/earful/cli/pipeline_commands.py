"""CLI commands of the pipeline: the scale-out worker, the dead letters, its benchmark.

Plain typer-compatible functions; earful.cli.main registers them.
"""

from __future__ import annotations

import os
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from earful.bench.throwaway import DEFAULT_POSTGRES, throwaway_database

console = Console(stderr=True)


def _django() -> None:
    # Not earful.cli.main.setup_django: main imports this module, so that would be a cycle.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "earful.settings")
    import django

    django.setup()


def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes on this machine.")] = 2,
    sweep_every: Annotated[
        float, typer.Option(help="Seconds between sweeps for stuck messages (0: never).")
    ] = 60.0,
) -> None:
    """Process stored messages from the broker (scale-out mode; needs EARFUL_BROKER_URL)."""
    _django()
    from django.conf import settings

    from earful.pipeline.engine import run_sweeps
    from earful.pipeline.tasks import app as celery_app

    if not settings.EARFUL_BROKER_URL:
        console.print("[red]EARFUL_BROKER_URL is not set[/red]: the embedded mode needs no worker.")
        raise typer.Exit(2)
    stop = threading.Event()
    if sweep_every > 0:
        threading.Thread(
            target=run_sweeps, args=(stop,), kwargs={"every": sweep_every}, daemon=True
        ).start()
    try:
        celery_app.worker_main(
            [
                "worker",
                f"--concurrency={concurrency}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                f"--queues={settings.CELERY_TASK_DEFAULT_QUEUE}",
            ]
        )
    finally:
        stop.set()


def dead_letters(
    org: Annotated[str, typer.Option(help="The organization's slug.")],
    retry: Annotated[bool, typer.Option("--retry", help="Put them back in the pipeline.")] = False,
) -> None:
    """List the messages that failed on their own (with their errors), or retry them."""
    _django()
    from earful.org.models import Organization
    from earful.pipeline.dead_letters import dead_letters as letters_of
    from earful.pipeline.dead_letters import retry_dead_letters

    organization = Organization.objects.filter(slug=org).first()
    if organization is None:
        console.print(f"[red]no organization {org!r}[/red]")
        raise typer.Exit(2)
    if retry:
        console.print(f"retried {retry_dead_letters(organization)} dead letters")
        return
    table = Table(title=f"dead letters of {organization.slug}")
    for column in ("id", "channel", "external id", "dead since", "error"):
        table.add_column(column)
    for raw in letters_of(organization).select_related("channel")[:200]:
        assert raw.dead_at is not None
        table.add_row(
            str(raw.pk), raw.channel.name, raw.external_id, raw.dead_at.isoformat(), raw.error
        )
    Console().print(table)


def bench_pipeline(
    messages: Annotated[int, typer.Option(help="Generated messages that arrive.")] = 10_000,
    workers: Annotated[
        int, typer.Option(help="Scale-out worker processes; 0 processes in-process (embedded).")
    ] = 0,
    database: Annotated[str, typer.Option(help="sqlite or postgres (a throwaway database).")] = (
        "sqlite"
    ),
    postgres: Annotated[
        str, typer.Option(help="Server to create the throwaway database on.")
    ] = DEFAULT_POSTGRES,
    broker: Annotated[str, typer.Option(help="Broker of the scale-out runs.")] = (
        "redis://127.0.0.1:6379/13"
    ),
    model: Annotated[str, typer.Option(help="Triage model: fast or best.")] = "best",
    rate: Annotated[
        float, typer.Option(help="Arrivals per second; 0 sends them as fast as possible.")
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the message generator.")] = 7,
    batch: Annotated[int, typer.Option(min=1, help="Messages per arrival batch.")] = 200,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Throughput and arrival-to-visible latency of the pipeline, embedded or on K workers."""
    import json

    if database not in {"sqlite", "postgres"} or model not in {"fast", "best"}:
        console.print("[red]--database is sqlite or postgres; --model is fast or best[/red]")
        raise typer.Exit(2)
    os.environ["EARFUL_TRIAGE_MODEL"] = model
    os.environ["EARFUL_QUEUE"] = f"earful-bench-{os.getpid()}"
    os.environ.pop("EARFUL_BROKER_URL", None)
    if workers:
        os.environ["EARFUL_BROKER_URL"] = broker
    with throwaway_database(database, postgres):
        _django()
        from django.core.management import call_command

        from earful.bench.pipeline import as_dict, run

        call_command("migrate", verbosity=0, interactive=False)
        result = run(
            messages=messages, workers=workers, model=model, rate=rate, seed=seed, batch=batch
        )
    figures = as_dict(result)
    if json_output:
        typer.echo(json.dumps(figures))
        return
    table = Table(title="pipeline: arrival to triaged, threaded and searchable")
    table.add_column("what")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        table.add_row(name.replace("_", " "), str(value))
    Console().print(table)
