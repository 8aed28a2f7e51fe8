"""CLI commands of the channels subsystem: `earful listen`, `channels`, `channel-check`.

Plain typer-compatible functions; earful.cli.main registers them.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)


def _django() -> None:
    # Not earful.cli.main.setup_django: main imports this module, so that would be a cycle.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "earful.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def listen(
    once: Annotated[bool, typer.Option("--once", help="Run due channels once, then exit.")] = False,
) -> None:
    """Poll every enabled channel when due, with backoff, and run streams, until Ctrl-C."""
    _django()
    from earful.channels.scheduler import run_due_channels, run_forever
    from earful.channels.streams import run_streams

    if once:
        runs = run_due_channels()
        for run in runs:
            outcome = f"[red]{run.error}" if run.error else f"{run.stored} new"
            console.print(f"{run.channel}: {run.pages} page(s), {outcome}", highlight=False)
        if not runs:
            console.print("no channel is due")
        raise typer.Exit(1 if any(r.error for r in runs) else 0)
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    streams = run_streams(stop)
    console.print(f"listening ({len(streams)} stream(s)); Ctrl-C to stop")
    run_forever(stop)


def channels(
    org: Annotated[str, typer.Option(help="Organization slug.")] = "default",
) -> None:
    """List the organization's channels with last fetch, error and lag."""
    _django()
    from django.utils import timezone

    from earful.channels.models import Channel

    table = Table(title=f"channels of {org}")
    for column in ("name", "kind", "enabled", "last success", "lag", "failures", "last error"):
        table.add_column(column)
    now = timezone.now()
    for channel in Channel.objects.filter(organization__slug=org).order_by("name"):
        lag = (
            f"{int((now - channel.last_success_at).total_seconds())}s"
            if channel.last_success_at
            else "never"
        )
        table.add_row(
            channel.name,
            channel.kind,
            "yes" if channel.enabled else "no",
            channel.last_success_at.isoformat(timespec="seconds")
            if channel.last_success_at
            else "",
            lag,
            str(channel.failures),
            channel.last_error[:80],
        )
    Console().print(table)


def channel_check(
    name: Annotated[str, typer.Argument(help="The channel's name.")],
    org: Annotated[str, typer.Option(help="Organization slug.")] = "default",
) -> None:
    """Try a channel's credentials now and say clearly what works or what does not."""
    _django()
    from earful.channels.connector import build_connector
    from earful.channels.http import OutboundError
    from earful.channels.models import Channel

    channel = Channel.objects.filter(organization__slug=org, name=name).first()
    if channel is None:
        console.print(f"[red]no channel named {name!r} in {org!r}", highlight=False)
        raise typer.Exit(2)
    try:
        message = build_connector(channel.kind, channel.settings).check()
    except OutboundError as exc:
        console.print(f"[red]{channel.name}: {exc}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    console.print(f"{channel.name}: {message}", highlight=False, markup=False)
