"""The scheduler: polls due channels, stores each page's cursor, and backs off on errors.

Each successful page is ingested and its cursor saved in one step before the next page is
fetched, so a restart resumes at the last stored page. A channel is claimed with a
conditional UPDATE, so two schedulers (`earful listen` on two machines) never fetch the same
channel at once. Failures double the wait up to MAX_BACKOFF; a rate limit waits exactly as
long as the platform asked; expired credentials wait the longest, until someone renews them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from earful.channels.connector import (
    REGISTRY,
    AuthError,
    Connector,
    ConnectorError,
    FetchResult,
    build_connector,
    connector_class,
)
from earful.channels.http import HttpPolicy, OutboundError, RateLimitedError
from earful.channels.listening import Terms, hear, queries_for
from earful.channels.models import Channel
from earful.org.events import record_event
from earful.pipeline.ingest import IngestReport, ingest_batch

log = logging.getLogger(__name__)

MAX_PAGES_PER_RUN = 20
MAX_BACKOFF = timedelta(hours=6)
# A claimed channel is not picked again for this long, even if its run dies midway.
CLAIM_LEASE = timedelta(minutes=10)
# Records that arrived through search or a feed are kept only if a listening query hears
# them; mentions, emails and direct messages are addressed to us and always kept.
LISTENED_VIA = frozenset({"search", "feed", "hashtag", "firehose"})


@dataclass
class ChannelRun:
    """What one channel's run did."""

    channel: str
    pages: int = 0
    stored: int = 0
    duplicates: int = 0
    blocked: int = 0
    not_heard: int = 0
    error: str = ""


def polled_kinds() -> list[str]:
    """Kinds whose connector polls (push-only kinds like webhook are skipped)."""
    kinds = []
    for kind in REGISTRY:
        cls = connector_class(kind)
        if cls is not None and cls.polled:
            kinds.append(kind)
    return kinds


def run_due_channels(
    now: datetime | None = None, *, policy: HttpPolicy | None = None, limit: int = 50
) -> list[ChannelRun]:
    """Fetch every enabled channel whose time has come; returns what each run did."""
    now = now or timezone.now()
    due = (
        Channel.objects.filter(enabled=True, kind__in=polled_kinds())
        .filter(Q(next_fetch_at__isnull=True) | Q(next_fetch_at__lte=now))
        .order_by("next_fetch_at", "pk")[:limit]
    )
    runs = []
    for channel in due:
        claimed = Channel.objects.filter(pk=channel.pk, next_fetch_at=channel.next_fetch_at).update(
            next_fetch_at=now + CLAIM_LEASE
        )
        if claimed:
            runs.append(run_channel(channel, policy=policy, now=now))
    return runs


def run_channel(
    channel: Channel, *, policy: HttpPolicy | None = None, now: datetime | None = None
) -> ChannelRun:
    """Fetch a channel's pages from its stored cursor, ingesting and saving after each."""
    now = now or timezone.now()
    run = ChannelRun(channel=channel.name)
    try:
        connector = build_connector(channel.kind, channel.settings, policy=policy)
        _fetch_pages(channel, connector, run)
    except RateLimitedError as exc:
        record_failure(channel, now, f"rate limited: {exc}", until=exc.until, counts=False)
        run.error = str(exc)
    except AuthError as exc:
        record_failure(channel, now, f"credentials refused: {exc}", until=now + MAX_BACKOFF)
        run.error = str(exc)
    except (ConnectorError, OutboundError) as exc:
        record_failure(channel, now, str(exc))
        run.error = str(exc)
    except Exception as exc:
        # A bug in one connector must not stop the others; the traceback goes to the log.
        log.exception("channel %s failed", channel.pk)
        record_failure(channel, now, f"unexpected error: {type(exc).__name__}: {exc}")
        run.error = str(exc)
    else:
        record_success(channel, now)
    return run


def _fetch_pages(channel: Channel, connector: Connector, run: ChannelRun) -> None:
    terms = queries_for(channel)
    connector.listening = terms
    cursor = channel.cursor
    for _ in range(MAX_PAGES_PER_RUN):
        result = connector.fetch(cursor)
        report = _ingest_page(channel, result, terms, run)
        connector.after_ingest(channel, result)
        run.pages += 1
        run.stored += report.stored
        run.duplicates += report.duplicates
        run.blocked += report.blocked
        cursor = result.cursor
        if not result.more:
            break


def _ingest_page(
    channel: Channel, result: FetchResult, terms: list[Terms], run: ChannelRun
) -> IngestReport:
    report, newest = ingest_heard(channel, result.records, terms, run)
    _store_cursor(channel, result.cursor, newest)
    return report


def ingest_heard(
    channel: Channel, records: list[dict[str, Any]], terms: list[Terms], run: ChannelRun
) -> tuple[IngestReport, str]:
    """Ingest the records addressed to us and those a query hears; returns the newest time."""
    addressed = [r for r in records if _via(r) not in LISTENED_VIA]
    listened = [r for r in records if _via(r) in LISTENED_VIA]
    heard = hear(terms, listened)
    run.not_heard += len(listened) - len(heard)
    kept = addressed + heard
    report = ingest_batch(channel, list(enumerate(kept, start=1))) if kept else IngestReport()
    newest = max((str(r.get("created_at", "")) for r in kept), default="")
    return report, newest


def _via(record: dict[str, Any]) -> str:
    source = record.get("source")
    return str(source.get("via", "")) if isinstance(source, dict) else ""


def _store_cursor(channel: Channel, cursor: Any, newest: str) -> None:
    # Saved on its own after every page (not audited: it changes every poll, and the
    # messages it brought are audited by ingest).
    channel.cursor = cursor
    fields = ["cursor"]
    newest_at = _parse_time(newest)
    if newest_at and (channel.newest_item_at is None or newest_at > channel.newest_item_at):
        channel.newest_item_at = newest_at
        fields.append("newest_item_at")
    channel.save(update_fields=fields)


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def record_success(channel: Channel, now: datetime, *, reschedule: bool = True) -> None:
    """Clear the channel's error state after a good run (and set its next poll)."""
    with transaction.atomic():
        recovered = channel.failures > 0
        before = {"failures": channel.failures, "last_error": channel.last_error}
        channel.last_fetch_at = channel.last_success_at = now
        channel.failures = 0
        channel.last_error = ""
        fields = ["last_fetch_at", "last_success_at", "failures", "last_error"]
        if reschedule:
            channel.next_fetch_at = now + timedelta(seconds=channel.poll_seconds)
            fields.append("next_fetch_at")
        channel.save(update_fields=fields)
        if recovered:
            record_event(channel.organization, "channel.recovered", target=channel, before=before)


def record_failure(
    channel: Channel,
    now: datetime,
    error: str,
    *,
    until: datetime | None = None,
    counts: bool = True,
) -> None:
    """Note a failed run: the error, one more failure, and when to try again."""
    with transaction.atomic():
        changed = error != channel.last_error
        failures = channel.failures + 1 if counts else channel.failures
        backoff = timedelta(seconds=channel.poll_seconds * 2 ** min(failures, 16))
        channel.failures = failures
        channel.last_fetch_at = now
        channel.last_error = error[:2000]
        channel.next_fetch_at = until or now + min(backoff, MAX_BACKOFF)
        channel.save(update_fields=["failures", "last_fetch_at", "last_error", "next_fetch_at"])
        # One event per new error, not per retry, so a long outage does not flood the log.
        if changed:
            record_event(
                channel.organization,
                "channel.fetch_failed",
                target=channel,
                after={"error": channel.last_error, "retry_at": channel.next_fetch_at.isoformat()},
            )
    log.warning("channel %s: %s", channel.pk, error)


def next_due_in(now: datetime | None = None) -> float:
    """Seconds until the next enabled channel is due (0 if one is due now, 60 if none)."""
    now = now or timezone.now()
    channels = Channel.objects.filter(enabled=True, kind__in=polled_kinds())
    if channels.filter(next_fetch_at__isnull=True).exists():
        return 0.0
    soonest = channels.order_by("next_fetch_at").values_list("next_fetch_at", flat=True).first()
    if soonest is None:
        return 60.0
    return max(0.0, (soonest - now).total_seconds())


def run_forever(stop: threading.Event, *, max_sleep: float = 30.0) -> None:
    """Run due channels until `stop` is set (used by `earful listen` and `earful serve`)."""
    while not stop.is_set():
        try:
            run_due_channels()
            wait = min(next_due_in(), max_sleep)
        except Exception:
            log.exception("scheduler pass failed")
            wait = max_sleep
        stop.wait(max(wait, 1.0))


def start_in_background() -> threading.Event:
    """Start the scheduler and the streams on daemon threads; set the returned event to stop."""
    from earful.channels.streams import run_streams  # streams builds on this module

    stop = threading.Event()
    threading.Thread(target=run_forever, args=(stop,), name="earful-scheduler", daemon=True).start()
    run_streams(stop)
    return stop
