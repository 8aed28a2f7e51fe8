"""Every insight table by name: what the dashboard shows, the CSV export and the API serve."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.http import Http404

from earful.errors import DomainError
from earful.insights import metrics, rollups, scorecard, social
from earful.insights.tables import Table, Window

Builder = Callable[[Window, datetime], Table]


def _by(build: Callable[[Window, str], Table], by: str) -> Builder:
    return lambda window, now: build(window, by)


TABLES: dict[str, Builder] = {
    "volume": lambda window, now: metrics.volume(window),
    "sentiment": lambda window, now: metrics.sentiment(window),
    "topics": lambda window, now: metrics.topics(window),
    "response-rate": lambda window, now: metrics.response_rate(window),
    **{f"reply-time-by-{by}": _by(metrics.reply_time, by) for by in metrics.BREAKDOWNS},
    **{
        f"first-response-by-{by}": _by(metrics.first_response_time, by) for by in metrics.BREAKDOWNS
    },
    **{f"next-response-by-{by}": _by(metrics.next_response_time, by) for by in metrics.BREAKDOWNS},
    "sla": lambda window, now: metrics.sla(window),
    "unanswered": metrics.unanswered,
    "fairness": lambda window, now: social.fairness(window),
    "scorecard": scorecard.scorecard_table,
}


def table(name: str, window: Window, now: datetime) -> Table:
    """One table by its name; 404 for a name that is not one."""
    builder = TABLES.get(name)
    if builder is None:
        raise Http404("no such table")
    return _build(name, window, now, rollups.reader(window))


def _build(name: str, window: Window, now: datetime, reader: rollups.Reader | None) -> Table:
    # A chosen range of whole days adds up its daily rollups; anything else is computed live.
    if reader is not None and name in rollups.TABLES:
        return rollups.TABLES[name](reader)
    return TABLES[name](window, now)


def dashboard(window: Window, now: datetime, by: str = "channel") -> list[Table]:
    """The dashboard's tables in page order, response times broken down `by` one of
    metrics.BREAKDOWNS (the scorecard has its own page; every table is in the CSV and API)."""
    if by not in metrics.BREAKDOWNS:
        raise DomainError(f"break down by one of {', '.join(metrics.BREAKDOWNS)}")
    others = {f"-by-{other}" for other in metrics.BREAKDOWNS if other != by}
    reader = rollups.reader(window)
    return [
        _build(name, window, now, reader)
        for name in TABLES
        if name != "scorecard" and not any(name.endswith(suffix) for suffix in others)
    ]
