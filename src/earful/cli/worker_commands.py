"""CLI commands of the pipeline: the scale-out worker and the dead letters.

Plain typer-compatible functions; earful.cli.main registers them.
"""

from __future__ import annotations

import os
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

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
