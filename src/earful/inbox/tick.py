"""The inbox's periodic work, one call for a scheduler: deliver due replies, check SLAs."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from django.db import connections, transaction
from django.utils import timezone

from earful.inbox.assignment import auto_assign
from earful.inbox.outbox import deliver_due
from earful.inbox.sla import check_sla
from earful.insights.tick import insights_tick
from earful.org.models import Organization

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickReport:
    """What one tick did."""

    delivered: int
    breached: int
    assigned: int


def tick(now: datetime) -> TickReport:
    """Retry due replies, mark new SLA breaches, and auto-assign where organizations want it."""
    delivered = deliver_due(now)
    breached = assigned = 0
    for organization in Organization.objects.order_by("pk"):
        breached += len(check_sla(organization, now))
        if organization.auto_assign:
            with transaction.atomic():
                assigned += len(auto_assign(organization, now=now))
    # Spike and crisis alerts, and the outgoing webhooks that carry them (and every event).
    insights_tick(now)
    return TickReport(delivered=delivered, breached=breached, assigned=assigned)


def run_ticks(stop: threading.Event, *, every: float = 30.0) -> None:
    """Tick every `every` seconds until `stop` is set; a failed pass is logged, not fatal."""
    while not stop.is_set():
        try:
            tick(timezone.now())
        except Exception:
            log.exception("inbox tick failed")
        finally:
            # Hold no database connection while asleep (nor after the last tick).
            connections.close_all()
        stop.wait(every)


@dataclass
class Ticking:
    """The ticking thread, and how to stop it."""

    stop_event: threading.Event
    thread: threading.Thread

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for it to finish its tick."""
        self.stop_event.set()
        self.thread.join(timeout)


def start_ticking() -> Ticking:
    """Run the ticks on a daemon thread (inside `earful serve` and `earful listen`)."""
    stop = threading.Event()
    thread = threading.Thread(target=run_ticks, args=(stop,), name="earful-inbox-tick", daemon=True)
    thread.start()
    return Ticking(stop, thread)
