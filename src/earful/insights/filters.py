"""Reading the dashboard's filters (date range, channel) into a Window, with clear errors."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from earful.channels.models import Channel
from earful.errors import DomainError
from earful.insights.tables import DEFAULT_DAYS, Window
from earful.org.models import Organization

LONGEST = timedelta(days=3660)


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise DomainError(f"{name} must be a date like 2026-11-01") from None


def parse_window(
    organization: Organization, now: datetime, *, start: str = "", end: str = "", channel: str = ""
) -> Window:
    """The window the filters name: whole days from `start` to `end` (inclusive), default the
    last 30 days, optionally one channel of the organization (by its code)."""
    first, last = _day(start, "start"), _day(end, "end")
    until = (
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
        if last is not None
        else now
    )
    since = (
        datetime.combine(first, time.min, tzinfo=UTC)
        if first is not None
        else until - timedelta(days=DEFAULT_DAYS)
    )
    if since >= until:
        raise DomainError("the start date must come before the end date")
    if until - since > LONGEST:
        raise DomainError("pick at most ten years")
    picked = None
    if channel:
        try:
            code = uuid.UUID(channel)
        except ValueError:
            raise DomainError("no such channel") from None
        picked = Channel.objects.filter(organization=organization, code=code).first()
        if picked is None:
            raise DomainError("no such channel")
    return Window(organization, since, until, picked)
