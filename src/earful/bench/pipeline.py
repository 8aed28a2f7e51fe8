"""The pipeline benchmark: time generated messages from arrival to triaged, threaded, searchable.

Embedded, the process that receives them processes them; scale-out, K `earful worker`
processes do, fed through the broker.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection

from earful.channels.models import Channel, RawMessage
from earful.channels.services import get_or_create_channel
from earful.config import connection_url
from earful.conversations.models import Message
from earful.conversations.search import filter_by_text
from earful.demo.generator import generate
from earful.org.models import Organization
from earful.org.services import create_organization
from earful.pipeline.ingest import ingest_batch

ARRIVAL_BATCH = 200
WAIT_LIMIT_SECONDS = 3600


@dataclass(frozen=True)
class PipelineRun:
    """One configuration's figures."""

    database: str
    workers: int
    model: str
    messages: int
    batch: int
    rate: float
    seconds: float
    messages_per_second: float
    # CPU time of this process while it ran: embedded, all the pipeline's work but the
    # PostgreSQL server's; a steadier figure than wall time on a shared machine.
    cpu_seconds: float
    latency_p50_ms: float
    latency_p99_ms: float
    searchable: bool


def records(count: int, seed: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """`count` realistic connector records (the demo generator's threads, as they come)."""
    now = datetime.now(tz=UTC)
    messages = generate(seed=seed, threads=count, days=30, now=now)
    for number, message in enumerate(messages, start=1):
        if number > count:
            return
        yield number, message.record


def run(
    *,
    messages: int,
    workers: int,
    model: str,
    rate: float,
    seed: int,
    batch: int = ARRIVAL_BATCH,
) -> PipelineRun:
    """Measure one configuration on the configured (throwaway) database."""
    organization = create_organization(f"bench {workers} workers", f"bench-{workers}-{seed}")
    channel = get_or_create_channel(organization, name="X", kind="x")
    started, cpu_started = time.perf_counter(), time.process_time()
    processes = _start_workers(workers, model) if workers else []
    try:
        if processes:
            _warm_up(processes)
            started, cpu_started = time.perf_counter(), time.process_time()
        _arrive(channel, messages, rate, seed, batch)
        _wait(channel, messages, processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    latencies = _latencies_ms(channel)
    return PipelineRun(
        database=connection.vendor,
        workers=workers,
        model=model,
        messages=messages,
        batch=batch,
        rate=rate,
        seconds=round(seconds, 2),
        messages_per_second=round(messages / seconds, 1),
        cpu_seconds=round(cpu_seconds, 2),
        latency_p50_ms=round(statistics.median(latencies), 1),
        latency_p99_ms=round(_percentile(latencies, 0.99), 1),
        searchable=_searchable(organization),
    )


def as_dict(result: PipelineRun) -> dict[str, Any]:
    """The figures as a JSON-ready dict."""
    return asdict(result)


def _arrive(channel: Channel, count: int, rate: float, seed: int, size: int) -> None:
    """Hand the records to ingest in batches of `size`, at once or paced at `rate` per second."""
    began = time.perf_counter()
    batch: list[tuple[int, dict[str, Any]]] = []
    sent = 0
    for item in records(count, seed):
        batch.append(item)
        if len(batch) == size:
            ingest_batch(channel, batch)
            sent += len(batch)
            batch = []
            if rate > 0:
                ahead = sent / rate - (time.perf_counter() - began)
                if ahead > 0:
                    time.sleep(ahead)
    if batch:
        ingest_batch(channel, batch)


def _wait(channel: Channel, count: int, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    done = RawMessage.objects.filter(channel=channel, processed_at__isnull=False)
    while done.count() < count:
        if processes and all(p.poll() is not None for p in processes):
            raise RuntimeError("every worker exited; see their output above")
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {done.count()} of {count} processed in time")
        time.sleep(0.1)


def _latencies_ms(channel: Channel) -> list[float]:
    """Arrival (stored raw) to visible (processed: triaged, threaded and searchable)."""
    rows = RawMessage.objects.filter(channel=channel, processed_at__isnull=False).values_list(
        "received_at", "processed_at"
    )
    return [(done - arrived).total_seconds() * 1000 for arrived, done in rows if done]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _searchable(organization: Organization) -> bool:
    """The newest message is found by full-text search on its own words."""
    newest = Message.objects.filter(organization=organization).order_by("-pk").first()
    if newest is None:
        return False
    words = " ".join(newest.text.split()[:3])
    found = filter_by_text(Message.objects.filter(organization=organization), words)
    return found.filter(pk=newest.pk).exists()


def _start_workers(count: int, model: str) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": connection_url(),
        "EARFUL_BROKER_URL": settings.EARFUL_BROKER_URL,
        "EARFUL_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "EARFUL_TRIAGE_MODEL": model,
        # One core per worker process, so that K workers ask for K cores.
        "OMP_NUM_THREADS": "1",
        "EARFUL_TRIAGE_THREADS": "1",
    }
    command = [sys.executable, "-m", "earful", "worker", "--concurrency", "1"]
    return [
        subprocess.Popen([*command, "--sweep-every", "0"], env=env, stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]


def _warm_up(processes: list[subprocess.Popen[bytes]]) -> None:
    """Every worker loads its model before the clock starts: one small batch per worker."""
    organization = create_organization("bench warm-up", f"bench-warm-{os.getpid()}")
    channel = get_or_create_channel(organization, name="X", kind="x")
    total = 20 * len(processes)
    for start in range(0, total, 20):
        ingest_batch(channel, list(records(total, seed=99))[start : start + 20])
    _wait(channel, total, processes)
    time.sleep(2)
