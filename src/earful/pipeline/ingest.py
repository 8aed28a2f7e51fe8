"""Ingest: the one entry point every connector and importer uses to bring messages in.

Raw first: records are stored as delivered (unique per channel and external id) and
committed before any processing, so a crash loses nothing and a re-run duplicates nothing.
Processing then turns pending raw rows into messages, triaged and threaded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from pydantic import ValidationError

from earful.channels.blocking import drop_blocked
from earful.channels.models import Channel, RawMessage
from earful.channels.records import RawRecord, Rejection, parse_record
from earful.conversations.models import Message
from earful.conversations.threading import store_threaded
from earful.customers.linking import (
    answer_link_requests,
    link_certain,
    record_written_clues,
    suggest_links,
)
from earful.customers.models import Identity
from earful.customers.services import ResolvedIdentities, resolve_identities
from earful.inbox.urgency import message_urgency, refresh_urgency
from earful.org.events import record_event
from earful.org.models import Organization
from earful.pipeline.engine import enqueue, scale_out
from earful.pipeline.org_models import triager_for
from earful.pipeline.stages import apply_labels
from earful.triage import Labels

PROCESS_CHUNK = 500
logger = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What one ingest call did: counts and the reasons records were refused."""

    stored: int = 0
    duplicates: int = 0
    processed: int = 0
    blocked: int = 0
    queued: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    stored_ids: list[int] = field(default_factory=list, repr=False)

    def add(self, other: IngestReport) -> None:
        """Fold another report's counts into this one."""
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.processed += other.processed
        self.blocked += other.blocked
        self.queued += other.queued
        self.rejections.extend(other.rejections)
        self.stored_ids.extend(other.stored_ids)


def ingest_batch(
    channel: Channel, items: Iterable[tuple[int, dict[str, object] | Rejection]]
) -> IngestReport:
    """Store a batch of (number, record) pairs raw, then process it here or send it to workers."""
    report = store_raw(channel, items)
    if scale_out():
        report.queued = enqueue(report.stored_ids)
    else:
        report.processed = process_pending(channel)
    return report


def store_raw(
    channel: Channel, items: Iterable[tuple[int, dict[str, object] | Rejection]]
) -> IngestReport:
    """Store valid records as raw messages; blocked, duplicate and bad ones are only counted."""
    report = IngestReport()
    records: dict[str, RawRecord] = {}
    kept, dropped = drop_blocked(channel, items)
    report.blocked = len(dropped)
    for number, item in kept:
        parsed = item if isinstance(item, Rejection) else parse_record(number, item)
        if isinstance(parsed, Rejection):
            report.rejections.append(parsed)
        elif parsed.external_id in records:
            report.duplicates += 1
        else:
            records[parsed.external_id] = parsed
    if not records:
        return report
    with transaction.atomic():
        seen = set(
            RawMessage.objects.filter(channel=channel, external_id__in=list(records)).values_list(
                "external_id", flat=True
            )
        )
        fresh = [record for external_id, record in records.items() if external_id not in seen]
        created = RawMessage.objects.bulk_create(
            RawMessage(
                organization_id=channel.organization_id,
                channel=channel,
                external_id=record.external_id,
                payload=record.model_dump(mode="json"),
            )
            for record in fresh
        )
    report.duplicates += len(seen)
    report.stored = len(fresh)
    report.stored_ids = [raw.pk for raw in created]
    return report


def process_pending(channel: Channel, *, limit: int | None = None) -> int:
    """Turn the channel's unprocessed raw messages into triaged, threaded messages."""
    processed = 0
    after = 0
    while limit is None or processed < limit:
        size = PROCESS_CHUNK if limit is None else min(PROCESS_CHUNK, limit - processed)
        ids = list(
            RawMessage.objects.filter(
                channel=channel, processed_at__isnull=True, dead_at__isnull=True, pk__gt=after
            )
            .order_by("id")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            break
        after = ids[-1]
        processed += process_raws(ids)
    return processed


def process_raws(raw_ids: Sequence[int]) -> int:
    """Process those of these raw messages still pending; a redelivered batch changes nothing.

    The costly stage, triage, runs outside any transaction so that workers run it side by
    side; storing then happens in one short transaction per channel. A message that fails
    on its own goes to the dead letters and never holds back the rest of its batch.
    """
    pending = (
        RawMessage.objects.filter(pk__in=raw_ids, processed_at__isnull=True, dead_at__isnull=True)
        .select_related("channel__organization")
        .order_by("id")
    )
    by_channel: dict[int, list[RawMessage]] = {}
    for raw in pending:
        by_channel.setdefault(raw.channel_id, []).append(raw)
    return sum(_process(raws[0].channel, raws) for raws in by_channel.values())


@dataclass
class _Item:
    raw: RawMessage
    record: RawRecord
    labels: Labels | None = None
    model: str = ""


def _process(channel: Channel, raws: list[RawMessage]) -> int:
    items: list[_Item] = []
    for raw in raws:
        try:
            items.append(_Item(raw, RawRecord.model_validate(raw.payload)))
        except ValidationError as exc:
            bury(raw, f"the stored record is not valid: {exc.error_count()} errors: {exc}")
    if not items:
        return 0
    inbound = [item for item in items if item.record.direction == "in"]
    if inbound:
        triager = triager_for(channel.organization)
        for item, labels in zip(
            inbound, triager.label([item.record.text for item in inbound]), strict=True
        ):
            item.labels, item.model = labels, triager.name
    if len(items) == 1:
        return _store_alone(channel, items[0])
    try:
        return _store(channel, items)
    except (OperationalError, InterfaceError):
        # The database is away (restart, network): nothing is the message's fault; the
        # batch stays pending and is retried whole.
        raise
    except Exception:
        # Something in the batch is poisoned: store one by one to find what.
        return sum(_store_alone(channel, item) for item in items)


def _store_alone(channel: Channel, item: _Item) -> int:
    try:
        return _store(channel, [item])
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        bury(item.raw, f"{exc.__class__.__name__}: {exc}")
        return 0


def _store(channel: Channel, items: list[_Item]) -> int:
    organization = channel.organization
    with transaction.atomic():
        # One writer per organization at a time: threading and stitching read what is
        # stored, so two workers must not each miss the other's half of a thread.
        Organization.objects.select_for_update().filter(pk=organization.pk).exists()
        claimed = RawMessage.objects.filter(
            pk__in=[item.raw.pk for item in items],
            processed_at__isnull=True,
            dead_at__isnull=True,
        )
        if connection.features.has_select_for_update_skip_locked:
            claimed = claimed.select_for_update(skip_locked=True)
        mine = set(claimed.values_list("pk", flat=True))
        items = [item for item in items if item.raw.pk in mine]
        if not items:
            return 0
        records = [item.record for item in items]
        resolved = resolve_identities(
            organization,
            channel.kind,
            (r.author for r in records if r.author is not None and r.direction == "in"),
        )
        identities = resolved.by_external_id
        link_identities(organization, resolved, records)
        messages = [_message_from(channel, item.raw, item.record, identities) for item in items]
        for message, item in zip(messages, items, strict=True):
            if item.labels is not None:
                apply_labels(message, item.labels, model=item.model)
                audience = message.identity.audience_size if message.identity else None
                message.urgency = message_urgency(message, audience)
        touched = store_threaded(organization, messages)
        refresh_urgency(touched, timezone.now())
        suggest_links(organization, {i.customer_id for i in identities.values()})
        RawMessage.objects.filter(pk__in=mine).update(processed_at=timezone.now(), error="")
        record_event(
            organization,
            "messages.ingested",
            target=channel,
            after={"messages": len(messages), "conversations": len(touched)},
        )
    return len(items)


def bury(raw: RawMessage, error: str) -> None:
    """Move a raw message that cannot be processed to the dead letters, with its error."""
    raw.error = error[:2000]
    raw.dead_at = timezone.now()
    RawMessage.objects.filter(pk=raw.pk).update(error=raw.error, dead_at=raw.dead_at)
    logger.warning("raw message %s went to the dead letters: %s", raw.pk, raw.error)


def link_identities(
    organization: Organization, resolved: ResolvedIdentities, records: list[RawRecord]
) -> None:
    """Join customers on certain evidence and remember clues for probable links (a stage)."""
    identities = resolved.by_external_id
    written = [
        (identities[r.author.external_id], r.text)
        for r in records
        if r.direction == "in" and r.author is not None
    ]
    merges = link_certain(organization, resolved.fresh)
    merges += answer_link_requests(organization, written)
    record_written_clues(organization, written)
    if merges:
        current = dict(
            Identity.objects.filter(pk__in=[i.pk for i in identities.values()]).values_list(
                "pk", "customer_id"
            )
        )
        for identity in identities.values():
            identity.customer_id = current[identity.pk]


def _message_from(
    channel: Channel, raw: RawMessage, record: RawRecord, identities: dict[str, Identity]
) -> Message:
    author = record.author
    identity = identities.get(author.external_id) if author and record.direction == "in" else None
    return Message(
        organization_id=channel.organization_id,
        channel=channel,
        raw=raw,
        identity=identity,
        author_handle=(author.handle or author.external_id) if author else "",
        direction=record.direction,
        kind=record.kind,
        external_id=record.external_id,
        in_reply_to_external_id=record.in_reply_to,
        url=record.url,
        text=record.text,
        created_at=record.created_at,
    )
