"""`earful import`: stream a file through ingest in batches, in constant memory."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from earful.channels.files import FileFormat, read_records
from earful.channels.models import Channel
from earful.channels.records import Rejection
from earful.channels.services import get_or_create_channel
from earful.conversations.models import Message
from earful.org.models import Organization
from earful.org.services import create_organization
from earful.pipeline.ingest import IngestReport, ingest_batch

DEFAULT_CHANNEL = {
    FileFormat.TWCS: ("Twitter", "x"),
    FileFormat.JSONL: ("Import", "file"),
    FileFormat.CSV: ("Import", "file"),
}
KEPT_REJECTIONS = 20


@dataclass
class ImportSummary:
    """What an import did, for the closing table."""

    organization: str
    channel: str
    records: int = 0
    rejected: int = 0
    linked_replies: int = 0
    report: IngestReport = field(default_factory=IngestReport)
    first_rejections: list[Rejection] = field(default_factory=list)


def run_import(
    path: Path,
    file_format: FileFormat,
    *,
    org_slug: str,
    channel_name: str | None,
    channel_kind: str | None,
    batch_size: int,
    on_progress: Callable[[int], None] = lambda _: None,
) -> ImportSummary:
    """Import the file into the organization's channel; raise ValueError if the file is unusable."""
    organization = Organization.objects.filter(slug=org_slug).first() or create_organization(
        org_slug, org_slug
    )
    default_name, default_kind = DEFAULT_CHANNEL[file_format]
    channel = get_or_create_channel(
        organization, name=channel_name or default_name, kind=channel_kind or default_kind
    )
    summary = ImportSummary(organization.slug, channel.name)
    # surrogateescape: a bad byte spoils one record (rejected with its line), not the file.
    with path.open("rb") as raw, io.TextIOWrapper(
        raw, encoding="utf-8", errors="surrogateescape", newline=""
    ) as stream:
        items = read_records(stream, file_format)
        while batch := list(islice(items, batch_size)):
            summary.records += len(batch)
            batch_report = ingest_batch(channel, batch)
            summary.rejected += len(batch_report.rejections)
            room = KEPT_REJECTIONS - len(summary.first_rejections)
            summary.first_rejections.extend(batch_report.rejections[:room])
            batch_report.rejections.clear()
            batch_report.stored_ids.clear()
            summary.report.add(batch_report)
            on_progress(raw.tell())
    summary.linked_replies = _linked_replies(channel)
    return summary


def _linked_replies(channel: Channel) -> int:
    return Message.objects.filter(channel=channel, parent__isnull=False).count()
