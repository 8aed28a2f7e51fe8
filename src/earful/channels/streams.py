"""Running push streams (Bluesky's Jetstream): batches ingested, stream cursor saved after each.

A stream runs until the platform closes it or `stop` is set; `run_streams` keeps one thread
per streaming channel and reconnects with the scheduler's backoff after an error.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections
from django.utils import timezone

from earful.channels.connector import Cursor, Record, build_connector, connector_class
from earful.channels.http import HttpPolicy, OutboundError
from earful.channels.listening import Terms, queries_for
from earful.channels.models import Channel
from earful.channels.scheduler import ChannelRun, ingest_heard, record_failure, record_success

log = logging.getLogger(__name__)

BATCH = 50
FLUSH_SECONDS = 2.0


def streaming_channels() -> list[Channel]:
    """Enabled channels whose connector streams and whose settings ask for it."""
    out = []
    for channel in Channel.objects.filter(enabled=True):
        cls = connector_class(channel.kind)
        if cls is not None and cls.streams and channel.settings.get("stream"):
            out.append(channel)
    return out


def stream_channel(
    channel: Channel, *, policy: HttpPolicy | None = None, stop: threading.Event | None = None
) -> ChannelRun:
    """Read the channel's stream until it closes or `stop` is set, ingesting in batches."""
    run = ChannelRun(channel=channel.name)
    now = timezone.now()
    try:
        connector = build_connector(channel.kind, channel.settings, policy=policy)
        terms = queries_for(channel)
        connector.listening = terms
        cursor: Cursor = channel.stream_cursor
        pending: list[Record] = []
        flushed_at = time.monotonic()
        for record, after in connector.stream(channel.stream_cursor):
            cursor = after
            if record is not None:
                pending.append(record)
            if len(pending) >= BATCH or time.monotonic() - flushed_at >= FLUSH_SECONDS:
                _flush(channel, pending, cursor, terms, run)
                pending, flushed_at = [], time.monotonic()
            if stop is not None and stop.is_set():
                break
        _flush(channel, pending, cursor, terms, run)
    except OutboundError as exc:
        record_failure(channel, now, f"stream: {exc}")
        run.error = str(exc)
    else:
        record_success(channel, now, reschedule=False)
    return run


def _flush(
    channel: Channel, records: list[Record], cursor: Cursor, terms: list[Terms], run: ChannelRun
) -> None:
    report, _ = ingest_heard(channel, records, terms, run)
    run.stored += report.stored
    run.duplicates += report.duplicates
    run.blocked += report.blocked
    run.pages += 1
    channel.stream_cursor = cursor
    channel.save(update_fields=["stream_cursor"])


def _keep_streaming(channel_id: int, stop: threading.Event) -> None:
    failures = 0
    while not stop.is_set():
        close_old_connections()
        channel = Channel.objects.filter(pk=channel_id, enabled=True).first()
        if channel is None:
            return
        run = stream_channel(channel, stop=stop)
        failures = failures + 1 if run.error else 0
        stop.wait(min(5 * 2**failures, 600))


def run_streams(stop: threading.Event) -> list[threading.Thread]:
    """Start one reconnecting thread per streaming channel; they end when `stop` is set."""
    threads = []
    for channel in streaming_channels():
        thread = threading.Thread(
            target=_keep_streaming,
            args=(channel.pk, stop),
            name=f"earful-stream-{channel.pk}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    return threads
