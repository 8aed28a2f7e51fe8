"""The periodic work: deliver due replies, check SLAs, assign; and the insights' own tick."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import connections, transaction
from django.utils import timezone

from earful.inbox.assignment import auto_assign
from earful.inbox.handoffs import escalate_overdue
from earful.inbox.notifications import notify
from earful.inbox.outbox import deliver_due
from earful.inbox.sla import check_sla
from earful.inbox.tickets import open_due_tickets
from earful.inbox.tracker_updates import poll_destinations
from earful.inbox.urgency import refresh_waiting
from earful.insights.tick import insights_tick
from earful.org.models import Organization
from earful.publishing.services import publish_due

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickReport:
    """What one tick did."""

    delivered: int
    breached: int
    assigned: int
    tickets_opened: int = 0
    tracker_updates: int = 0
    escalated: int = 0
    notified: int = 0


def tick(now: datetime) -> TickReport:
    """Retry due replies and hand-off tickets, read polled trackers, mark new SLA breaches,
    age waiting conversations' urgency, escalate overdue hand-offs, notify people outside
    earful, and auto-assign where organizations want it."""
    delivered = deliver_due(now)
    publish_due(now)
    opened = open_due_tickets(now)
    updates = poll_destinations(now)
    breached = assigned = escalated = notified = 0
    for organization in Organization.objects.order_by("pk"):
        breached += len(check_sla(organization, now))
        refresh_waiting(organization, now)
        escalated += len(escalate_overdue(organization, now))
        notified += notify(organization, now)
        if organization.auto_assign:
            with transaction.atomic():
                assigned += len(auto_assign(organization, now=now))
    return TickReport(delivered, breached, assigned, opened, updates, escalated, notified)


def run_ticks(
    stop: threading.Event, work: Callable[[datetime], object] = tick, *, every: float = 30.0
) -> None:
    """Run `work` every `every` seconds until `stop` is set; a failed pass is logged, not fatal."""
    while not stop.is_set():
        try:
            work(timezone.now())
        except Exception:
            log.exception("%s failed", getattr(work, "__name__", "tick"))
        finally:
            # Hold no database connection while asleep (nor after the last tick).
            connections.close_all()
        stop.wait(every)


@dataclass
class Ticking:
    """The ticking thread, and how to stop it."""

    stop_event: threading.Event
    threads: list[threading.Thread]

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the threads to stop and wait for them to finish their ticks."""
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout)


def start_ticking() -> Ticking:
    """Run the inbox's ticks and the insights' on two daemon threads (in `earful serve` and
    `earful listen`): refreshing the insights takes long at scale, and replies must not wait."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=run_ticks, args=(stop, work), name=name, daemon=True)
        for work, name in ((tick, "earful-inbox-tick"), (insights_tick, "earful-insights-tick"))
    ]
    for thread in threads:
        thread.start()
    return Ticking(stop, threads)
