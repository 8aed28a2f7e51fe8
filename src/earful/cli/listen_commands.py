"""CLI commands of the channels subsystem: listen, channels, channel-check/-add, listening-query.

Plain typer-compatible functions; earful.cli.main registers them.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
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
    from earful.inbox.tick import start_ticking

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
    # Replies waiting for a retry and SLA breaches are checked while listening, too.
    ticking = start_ticking()
    console.print(f"listening ({len(streams)} stream(s)); Ctrl-C to stop")
    run_forever(stop)
    ticking.stop()


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


_SETTINGS_OPTION: Path = typer.Option(
    ..., "--settings", exists=True, dir_okay=False, help="JSON file of the kind's settings."
)


def channel_add(
    name: Annotated[str, typer.Argument(help="A name for the channel.")],
    kind: Annotated[str, typer.Option(help="rss, email, mastodon, bluesky, reddit, x, ...")],
    settings: Path = _SETTINGS_OPTION,
    org: Annotated[str, typer.Option(help="Organization slug.")] = "default",
    mode: Annotated[str, typer.Option(help="listen, or engage to also reply.")] = "engage",
    poll_seconds: Annotated[int, typer.Option(help="Seconds between polls.")] = 300,
) -> None:
    """Add a channel; its settings (credentials included) come from a JSON file, never argv."""
    _django()
    from earful.channels.services import ChannelError, create_channel
    from earful.org.models import Organization

    organization = Organization.objects.filter(slug=org).first()
    if organization is None:
        console.print(f"[red]no organization {org!r}", highlight=False)
        raise typer.Exit(2)
    try:
        raw = json.loads(settings.read_text(encoding="utf-8"))
        channel = create_channel(
            organization, name=name, kind=kind, settings=raw, mode=mode, poll_seconds=poll_seconds
        )
    except (ValueError, ChannelError) as exc:
        console.print(f"cannot add {name!r}: {exc}", highlight=False, markup=False)
        raise typer.Exit(2) from None
    console.print(f"added {channel.name} ({channel.kind}); code {channel.code}", highlight=False)


def listening_query(
    name: Annotated[str, typer.Argument(help="The query's name; saving again replaces it.")],
    org: Annotated[str, typer.Option(help="Organization slug.")] = "default",
    brand: Annotated[list[str] | None, typer.Option(help="A brand name (repeatable).")] = None,
    product: Annotated[list[str] | None, typer.Option(help="A product (repeatable).")] = None,
    hashtag: Annotated[list[str] | None, typer.Option(help="A hashtag (repeatable).")] = None,
    competitor: Annotated[list[str] | None, typer.Option(help="A rival (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="A term to drop (repeatable).")] = None,
    language: Annotated[list[str] | None, typer.Option(help="Only these languages.")] = None,
) -> None:
    """Save a listening query: posts naming any term and no exclusion are heard."""
    _django()
    from earful.channels.listening import compile_query, terms_of
    from earful.channels.services import ChannelError, save_listening_query
    from earful.org.models import Organization

    organization = Organization.objects.filter(slug=org).first()
    if organization is None:
        console.print(f"[red]no organization {org!r}", highlight=False)
        raise typer.Exit(2)
    try:
        query = save_listening_query(
            organization,
            name,
            brands=brand or [],
            products=product or [],
            hashtags=hashtag or [],
            competitors=competitor or [],
            exclusions=exclude or [],
            languages=language or [],
        )
    except ChannelError as exc:
        console.print(f"cannot save {name!r}: {exc}", highlight=False, markup=False)
        raise typer.Exit(2) from None
    terms = terms_of(query)
    for network in ("x", "reddit", "bluesky", "mastodon"):
        compiled = " | ".join(compile_query(terms, network))
        console.print(f"{network}: {compiled}", highlight=False, markup=False)
