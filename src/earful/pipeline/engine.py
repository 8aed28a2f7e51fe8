"""Where stored messages get processed: here and now (embedded) or by workers (scale-out).

Raw first makes the broker a doorbell, not a store: every message is in the database
before its task is sent, so a lost task only delays it until the sweep sends it again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

from earful.channels.models import RawMessage

logger = logging.getLogger(__name__)
TASK_BATCH = 200


def scale_out() -> bool:
    """True when a broker is configured and workers process what arrives."""
    return bool(settings.EARFUL_BROKER_URL)


def enqueue(raw_ids: Sequence[int]) -> int:
    """Send tasks for these raw messages in batches; returns how many ids were sent.

    A broker that is down is not the sender's problem: the messages are stored and the
    sweep sends them once it is back.
    """
    from kombu.exceptions import OperationalError as BrokerError

    from earful.pipeline.tasks import process_raws_task

    sent = 0
    for start in range(0, len(raw_ids), TASK_BATCH):
        batch = list(raw_ids[start : start + TASK_BATCH])
        try:
            process_raws_task.delay(batch)
        except BrokerError:
            logger.warning("broker unreachable; %d stored messages wait for the sweep", len(batch))
            return sent
        sent += len(batch)
    return sent


def stale_pending(now: datetime) -> list[int]:
    """Ids of raw messages still pending long after arrival (not the dead letters)."""
    older_than = timedelta(seconds=settings.EARFUL_SWEEP_AFTER_SECONDS)
    return list(
        RawMessage.objects.filter(
            processed_at__isnull=True, dead_at__isnull=True, received_at__lt=now - older_than
        )
        .order_by("id")
        .values_list("pk", flat=True)
    )


def sweep(now: datetime | None = None) -> int:
    """Send again the tasks of messages left pending; returns how many were sent."""
    return enqueue(stale_pending(now or timezone.now()))


def run_sweeps(stop: threading.Event, *, every: float = 60.0) -> None:
    """Sweep every `every` seconds until `stop` is set; one worker sweeps per period.

    Every worker runs this; a short Redis lock makes the others skip the period, and a
    sweep that runs twice anyway only sends tasks that change nothing.
    """
    while not stop.wait(every):
        try:
            if _take_sweep_turn(every):
                sent = sweep()
                if sent:
                    logger.warning("swept %d stuck messages back to the workers", sent)
        except Exception:
            logger.exception("sweep failed")
        finally:
            connections.close_all()


def _take_sweep_turn(every: float) -> bool:
    url = settings.EARFUL_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return True
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    # Per queue: installations (or test runs) sharing one Redis must not take each other's turn.
    key = f"earful:sweep-turn:{settings.CELERY_TASK_DEFAULT_QUEUE}"
    return bool(client.set(key, "1", nx=True, ex=max(1, int(every * 0.9))))
