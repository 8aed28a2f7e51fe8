"""The dead letters: raw messages that failed on their own, kept with their error until retried."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from earful.channels.models import RawMessage
from earful.org.events import record_event
from earful.org.models import Organization
from earful.pipeline.engine import enqueue, scale_out
from earful.pipeline.ingest import process_raws


def dead_letters(organization: Organization) -> QuerySet[RawMessage]:
    """The organization's dead letters, newest first."""
    return RawMessage.objects.filter(organization=organization, dead_at__isnull=False).order_by(
        "-dead_at", "-pk"
    )


def retry_dead_letters(organization: Organization, *, by: User | None = None) -> int:
    """Put every dead letter back in the pipeline; returns how many were retried.

    Meant for after the cause is fixed (a new release that reads an old payload, a bad
    setting): a message that fails again goes back to the dead letters with its new error.
    """
    ids = list(dead_letters(organization).values_list("pk", flat=True))
    if not ids:
        return 0
    RawMessage.objects.filter(pk__in=ids).update(dead_at=None)
    record_event(organization, "dead_letters.retried", actor=by, after={"messages": len(ids)})
    if scale_out():
        enqueue(ids)
    else:
        process_raws(ids)
    return len(ids)
