"""The inbox's periodic work, one call for a scheduler: deliver due replies, check SLAs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from earful.inbox.outbox import deliver_due
from earful.inbox.sla import check_sla
from earful.org.models import Organization


@dataclass(frozen=True)
class TickReport:
    """What one tick did."""

    delivered: int
    breached: int


def tick(now: datetime) -> TickReport:
    """Retry due outbox items and mark new SLA breaches in every organization."""
    delivered = deliver_due(now)
    breached = sum(len(check_sla(org, now)) for org in Organization.objects.order_by("pk"))
    return TickReport(delivered=delivered, breached=breached)
