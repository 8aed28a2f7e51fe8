"""Ingest: the one entry point every connector and importer uses to bring messages in.

Raw first: records are stored as delivered (unique per channel and external id) and
committed before any processing, so a crash loses nothing and a re-run duplicates nothing.
Processing then turns pending raw rows into messages, triaged and threaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

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
from earful.org.events import record_event
from earful.org.models import Organization
from earful.pipeline.org_models import triager_for
from earful.pipeline.stages import triage_stage

PROCESS_CHUNK = 500


@dataclass
class IngestReport:
    """What one ingest call did: counts and the reasons records were refused."""

    stored: int = 0
    duplicates: int = 0
    processed: int = 0
    blocked: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def add(self, other: IngestReport) -> None:
        """Fold another report's counts into this one."""
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.processed += other.processed
        self.blocked += other.blocked
        self.rejections.extend(other.rejections)


def ingest_batch(
    channel: Channel, items: Iterable[tuple[int, dict[str, object] | Rejection]]
) -> IngestReport:
    """Validate, store raw, then process a batch of (record number, connector record) pairs."""
    report = store_raw(channel, items)
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
        RawMessage.objects.bulk_create(
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
    return report


def process_pending(channel: Channel, *, limit: int | None = None) -> int:
    """Turn the channel's unprocessed raw messages into triaged, threaded messages."""
    processed = 0
    while limit is None or processed < limit:
        chunk = PROCESS_CHUNK if limit is None else min(PROCESS_CHUNK, limit - processed)
        done = _process_chunk(channel, chunk)
        if done == 0:
            break
        processed += done
    return processed


def _process_chunk(channel: Channel, size: int) -> int:
    with transaction.atomic():
        pending = RawMessage.objects.filter(channel=channel, processed_at__isnull=True).order_by(
            "id"
        )
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        raws = list(pending[:size])
        if not raws:
            return 0
        records = [RawRecord.model_validate(raw.payload) for raw in raws]
        organization = channel.organization
        resolved = resolve_identities(
            organization,
            channel.kind,
            (r.author for r in records if r.author is not None and r.direction == "in"),
        )
        identities = resolved.by_external_id
        link_identities(organization, resolved, records)
        messages = [
            _message_from(channel, raw, record, identities)
            for raw, record in zip(raws, records, strict=True)
        ]
        triage_stage(messages, triager_for(organization))
        touched = store_threaded(organization, messages)
        suggest_links(organization, {i.customer_id for i in identities.values()})
        RawMessage.objects.filter(pk__in=[raw.pk for raw in raws]).update(
            processed_at=timezone.now()
        )
        record_event(
            channel.organization,
            "messages.ingested",
            target=channel,
            after={"messages": len(messages), "conversations": len(touched)},
        )
    return len(raws)


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
    for identity, text in written:
        record_written_clues(organization, identity, text)
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
