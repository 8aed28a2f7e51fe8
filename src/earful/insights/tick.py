"""The insights' share of the periodic tick: check alerts, then post due webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from earful.insights import rollups, snapshots
from earful.insights.alerts import check_alerts
from earful.insights.webhooks import deliver_due, queue_events
from earful.org.models import Organization


@dataclass(frozen=True)
class InsightsTick:
    """What one insights tick did."""

    alerts: int
    queued: int
    posted: int


def insights_tick(now: datetime) -> InsightsTick:
    """Raise new alerts, roll up the days that changed and refresh the default views of every
    organization, then queue new events and post due webhooks."""
    alerts = 0
    for organization in Organization.objects.order_by("pk"):
        alerts += len(check_alerts(organization, now))
        rollups.roll_if_due(organization, now)
        snapshots.refresh(organization, now)
    # Alerts are events too, so they are queued in this same tick.
    queued = queue_events(now)
    return InsightsTick(alerts=alerts, queued=queued, posted=deliver_due(now))
