"""Reads for the publishing pages: the calendar of scheduled, held and past posts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q
from django.db.models.functions import Coalesce

from earful.conversations.models import Direction, Message
from earful.org.models import Organization
from earful.publishing.models import Post, PostState


@dataclass(frozen=True)
class Entry:
    """One post on the calendar: ours through earful, or imported from before."""

    when: datetime
    state: str
    text: str
    channels: list[str] = field(default_factory=list)
    # The post's code, to link its page; empty for an imported post.
    code: str = ""


@dataclass(frozen=True)
class Day:
    """A day of the calendar and what went out (or will) on it."""

    day: date
    entries: list[Entry]


def month_bounds(first: date) -> tuple[datetime, datetime]:
    """The UTC instants that start the month of `first` and the next one."""
    first = first.replace(day=1)
    after = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(first, time(), tzinfo=UTC), datetime.combine(after, time(), tzinfo=UTC)


def calendar(organization: Organization, start: datetime, end: datetime) -> list[Day]:
    """Posts scheduled, held or sent between start and end, and imported posts of ours, by day."""
    entries: list[Entry] = []
    posts = (
        Post.objects.filter(organization=organization)
        .exclude(state__in=[PostState.CANCELLED, PostState.DRAFT])
        .annotate(at=Coalesce("published_at", "scheduled_at"))
        .filter(at__gte=start, at__lt=end)
        .prefetch_related("targets__channel")
        .order_by("at", "pk")
    )
    for post in posts:
        names = sorted(target.channel.name for target in post.targets.all())
        entries.append(Entry(post.at, post.state, post.text, names, str(post.code)))
    imported = (
        Message.objects.filter(
            Q(post_target__isnull=True),
            organization=organization,
            direction=Direction.OUT,
            parent__isnull=True,
            in_reply_to_external_id="",
            created_at__gte=start,
            created_at__lt=end,
        )
        .select_related("channel")
        .order_by("created_at", "pk")
    )
    for message in imported:
        entries.append(Entry(message.created_at, "imported", message.text, [message.channel.name]))
    by_day: dict[date, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: e.when):
        by_day.setdefault(entry.when.date(), []).append(entry)
    return [Day(day, found) for day, found in sorted(by_day.items())]
