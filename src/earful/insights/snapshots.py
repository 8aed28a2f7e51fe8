"""Precomputed default views: the dashboard and scorecard over the last 30 days.

The queries aggregate in the database, but over a million messages a full dashboard still
takes seconds (see docs/insights.md). The view most people open, the default one, is
therefore computed by the tick every few minutes and stored as JSON; the page reads it in
one query and says how old it is. Any other window or channel is computed live.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from earful.insights import dashboard as boards
from earful.insights.models import Snapshot
from earful.insights.scorecard import PROMOTE_LAST, Score, scorecard
from earful.insights.tables import DEFAULT_DAYS, Chart, Table, Window
from earful.org.models import Organization

# The tick recomputes a snapshot this old; a page uses one up to MAX_AGE old.
REFRESH = timedelta(minutes=5)
MAX_AGE = timedelta(minutes=15)
DASHBOARD, SCORECARD = "dashboard:channel", "scorecard"


def _table_data(table: Table) -> dict[str, Any]:
    data = asdict(table)
    data["highlight"] = sorted(table.highlight)
    return data


def _table(data: dict[str, Any]) -> Table:
    chart = data["chart"]
    return Table(
        slug=data["slug"],
        title=data["title"],
        columns=tuple(data["columns"]),
        rows=data["rows"],
        chart=Chart(chart["kind"], tuple(chart["series"]), chart["y_title"]) if chart else None,
        note=data["note"],
        highlight=frozenset(data["highlight"]),
    )


def default_window(organization: Organization, now: datetime) -> Window:
    """The last 30 days, every channel."""
    return Window(organization, now - timedelta(days=DEFAULT_DAYS), now)


def refresh(organization: Organization, now: datetime, *, force: bool = False) -> int:
    """Recompute the organization's snapshots older than REFRESH; returns how many."""
    stale = now - REFRESH
    fresh = set(
        Snapshot.objects.filter(organization=organization, computed_at__gt=stale).values_list(
            "key", flat=True
        )
    )
    window = default_window(organization, now)
    builders: dict[str, Callable[[], list[dict[str, Any]]]] = {
        DASHBOARD: lambda: [_table_data(t) for t in boards.dashboard(window, now)],
        SCORECARD: lambda: [asdict(s) for s in scorecard(window, now)],
    }
    done = 0
    for key, build in builders.items():
        if key in fresh and not force:
            continue
        started = time.perf_counter()
        payload = build()
        Snapshot.objects.update_or_create(
            organization=organization,
            key=key,
            defaults={
                "computed_at": now,
                "payload": payload,
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
        done += 1
    return done


def _current(organization: Organization, key: str, now: datetime) -> Snapshot:
    snapshot = Snapshot.objects.filter(
        organization=organization, key=key, computed_at__gt=now - MAX_AGE
    ).first()
    if snapshot is None:
        refresh(organization, now, force=True)
        snapshot = Snapshot.objects.get(organization=organization, key=key)
    return snapshot


def dashboard_snapshot(organization: Organization, now: datetime) -> tuple[list[Table], datetime]:
    """The default dashboard and when it was computed (computed now if none is recent)."""
    snapshot = _current(organization, DASHBOARD, now)
    return [_table(data) for data in snapshot.payload], snapshot.computed_at


def scorecard_snapshot(organization: Organization, now: datetime) -> tuple[list[Score], datetime]:
    """The default scorecard and when it was computed (computed now if none is recent)."""
    snapshot = _current(organization, SCORECARD, now)
    return [Score(**data) for data in snapshot.payload], snapshot.computed_at


def chosen_scorecard(window: Window, now: datetime) -> list[Score]:
    """The scorecard of a chosen window. Its promotion line is always over the last 30 days,
    so it is taken from the default scorecard's snapshot when that is recent."""
    recent = Snapshot.objects.filter(
        organization=window.organization, key=SCORECARD, computed_at__gt=now - MAX_AGE
    ).first()
    lines = [Score(**data) for data in recent.payload] if recent else []
    return scorecard(window, now, next((s for s in lines if s.section == PROMOTE_LAST), None))
