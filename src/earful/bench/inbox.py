"""`earful bench inbox`: the team's reads at scale, on a database seeded with N messages.

Times (p50 / p99 over repeats) the inbox queue query and page, a conversation page,
full-text search, the dashboards; then the arrival-to-inbox latency of new messages
arriving into that database; and, with locust installed, an HTTP load run on loopback.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import connection
from django.db.models import Max
from django.test import Client
from django.utils import timezone

from earful.bench.insights import seed
from earful.bench.pipeline import records
from earful.channels.models import Channel, RawMessage
from earful.config import connection_url
from earful.conversations.models import Conversation, Direction, Message
from earful.conversations.queries import list_messages
from earful.inbox.queues import Filters, queue, queue_counts
from earful.org.models import Membership, Organization, Role
from earful.org.services import add_member
from earful.pipeline.ingest import ingest_batch

SEARCH_WORDS = ("bill", "refund", "wrong", "sorry", "router", "invoice")
ARRIVAL_BATCH = 20
BENCH_SLUG = "bench"
SEEDED_CUSTOMER_TEXT = "my bill is wrong again"  # what earful.bench.insights.seed writes
# The seeder writes one sentence for every customer and one for every reply, which makes
# search meaningless: these parts, picked by message id, give 1,001 customer texts and 105
# replies in which each word is as common as it would be (from one in 7 to one in 143).
CUSTOMER_PARTS = (
    (
        "my bill is wrong again",
        "still waiting for the refund",
        "the router keeps dropping the connection",
        "the app logs me out every morning",
        "where is my parcel",
        "charged twice this month",
        "no signal at home since Monday",
        "I want to cancel my contract",
        "the invoice shows a fee I never agreed to",
        "your chat said someone would call back",
        "great service from the shop in town",
    ),
    (
        "please help",
        "this is the third time I write",
        "thanks in advance",
        "very disappointed",
        "can someone look at it",
        "any update",
        "not happy at all",
        "is there an outage",
        "my account number is in my profile",
        "I have been a customer for ten years",
        "so frustrating",
        "appreciate it",
        "urgent",
    ),
    ("", "", "", "", "again", "today", "#fail"),
)
REPLY_PARTS = (
    (
        "Sorry about that, we are on it.",
        "Thanks for letting us know.",
        "We have sent you a direct message.",
        "A refund is on its way.",
        "Our engineers are looking at the network in your area.",
        "Please restart the router and tell us if it helps.",
        "We have corrected the invoice.",
    ),
    (
        "",
        "Kind regards, the support team",
        "Could you send us your account number?",
        "We will update you within a day.",
        "Apologies for the wait.",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ),
)


def run(
    *,
    messages: int,
    repeats: int,
    arrivals: int,
    rate: float,
    load_seconds: int,
    users: int,
    threads: int = 8,
) -> dict[str, Any]:
    """Seed, then measure every read; returns the figures (milliseconds unless named)."""
    now = timezone.now()
    began = time.perf_counter()
    # A database kept from an earlier run (--seeded) is measured as it is.
    organization = Organization.objects.filter(slug=BENCH_SLUG).first()
    if organization is None:
        organization = seed(messages, days=30, now=now)
    vary_texts(organization)
    if connection.vendor == "postgresql":
        # Autovacuum would do this in a while: a running database has its statistics and no
        # index entries of the rows the copies and texts replaced.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    seeded_seconds = time.perf_counter() - began
    # The seeder numbers conversations itself; new arrivals must number after them.
    top = Conversation.objects.filter(organization=organization).aggregate(Max("number"))
    Organization.objects.filter(pk=organization.pk).update(
        conversation_counter=top["number__max"] or 0
    )
    organization.refresh_from_db()
    member = add_member(organization, "bench-admin@bench.example", role=Role.ADMIN)
    agent = Membership.objects.filter(organization=organization, role=Role.AGENT).order_by("pk")[0]
    client = Client(HTTP_HOST="localhost")
    client.force_login(member.user)
    slug = organization.slug
    numbers = random.Random(3).sample(  # noqa: S311 - benchmark sampling
        range(1, (top["number__max"] or 1) + 1), k=min(repeats, top["number__max"] or 1)
    )
    timings = _reads(client, member, agent, organization, numbers, repeats, now)
    figures: dict[str, Any] = {
        "messages": Message.objects.filter(organization=organization).count(),
        "conversations": Conversation.objects.filter(organization=organization).count(),
        "seed_seconds": round(seeded_seconds, 1),
        "reads_ms": timings,
        "arrival_to_inbox_ms": _arrivals(organization, arrivals, rate),
    }
    if load_seconds:
        figures["http_load"] = _load_run(client, slug, numbers, load_seconds, users, threads)
    return figures


def vary_texts(organization: Organization) -> None:
    """Give the seeded messages varied texts (one UPDATE per direction, in the database)."""
    seeded = Message.objects.filter(organization=organization, text=SEEDED_CUSTOMER_TEXT)
    if not seeded.exists():
        return
    with connection.cursor() as cursor:
        for direction, parts in ((Direction.IN, CUSTOMER_PARTS), (Direction.OUT, REPLY_PARTS)):
            pieces, params = [], []
            divisor = 1
            for part in parts:
                cases = " ".join("WHEN %s THEN %s" for _ in part)
                pieces.append(f"CASE (id / {divisor}) %% {len(part)} {cases} END")
                params += [value for pair in enumerate(part) for value in pair]
                divisor *= len(part)
            text = " || ' ' || ".join(pieces)
            cursor.execute(
                f"UPDATE conversations_message SET text = TRIM({text}) "  # noqa: S608 - no input
                "WHERE organization_id = %s AND direction = %s",
                [*params, organization.pk, direction],
            )


def _reads(
    client: Client,
    member: Membership,
    agent: Membership,
    organization: Organization,
    numbers: list[int],
    repeats: int,
    now: datetime,
) -> dict[str, dict[str, float]]:
    slug = organization.slug
    words = iter(SEARCH_WORDS * repeats)
    conversations = iter(numbers * 2)

    def page(path: str, **headers: str) -> Callable[[], object]:
        def get() -> object:
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            return response

        return get

    reads: dict[str, Callable[[], object]] = {
        "inbox queue query": lambda: list(
            queue(member, "all", Filters(), sort="urgency", now=now)[:50]
        ),
        "mine queue query": lambda: list(
            queue(agent, "mine", Filters(), sort="urgency", now=now)[:50]
        ),
        "inbox queue counts": lambda: queue_counts(member, now),
        "inbox page": page(f"/o/{slug}/inbox/?queue=all"),
        "inbox rows (htmx poll)": page(f"/o/{slug}/inbox/?queue=all", HX_Request="true"),
        "conversation page": lambda: page(f"/o/{slug}/c/{next(conversations)}/")(),
        "search query": lambda: list(list_messages(organization, text=next(words))[:50]),
        "search in queue query": lambda: list(
            queue(member, "all", Filters(text=next(words)), sort="urgency", now=now)[:50]
        ),
        "search page": lambda: page(f"/o/{slug}/inbox/?queue=all&q={next(words)}")(),
        "dashboard page": page(f"/o/{slug}/insights/"),
        "scorecard page": page(f"/o/{slug}/insights/scorecard/"),
    }
    return {name: _time(read, repeats) for name, read in reads.items()}


def _time(read: Callable[[], object], repeats: int) -> dict[str, float]:
    read()  # warm: the first call pays for imports and caches, as after a deploy
    spent = []
    for _ in range(repeats):
        start = time.perf_counter()
        read()
        spent.append((time.perf_counter() - start) * 1000)
    return {"p50": round(statistics.median(spent), 1), "p99": round(_p99(spent), 1)}


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def _arrivals(organization: Organization, count: int, rate: float) -> dict[str, float]:
    """New messages arriving at `rate` a second into the seeded database, until visible."""
    # A new channel each run, so a kept database takes the same arrivals again.
    channel = Channel.objects.create(
        organization=organization, name=f"Arrivals {timezone.now():%Y-%m-%d %H:%M:%S.%f}", kind="x"
    )
    began = time.perf_counter()
    batch: list[tuple[int, dict[str, Any]]] = []
    for number, record in records(count, seed=13):
        batch.append((number, record))
        if len(batch) == ARRIVAL_BATCH:
            ingest_batch(channel, batch)
            batch = []
            ahead = number / rate - (time.perf_counter() - began)
            if ahead > 0:
                time.sleep(ahead)
    if batch:
        ingest_batch(channel, batch)
    spans = [
        (done - arrived).total_seconds() * 1000
        for arrived, done in RawMessage.objects.filter(channel=channel).values_list(
            "received_at", "processed_at"
        )
        if done
    ]
    return {
        "messages": len(spans),
        "rate": rate,
        "p50": round(statistics.median(spans), 1),
        "p99": round(_p99(spans), 1),
    }


def _load_run(
    client: Client, slug: str, numbers: list[int], seconds: int, users: int, threads: int
) -> dict[str, Any]:
    """`earful serve` on a free loopback port, and locust's agents against it."""
    locust = Path(sys.executable).with_name("locust")
    if not locust.exists():
        return {"skipped": "locust is not installed: pip install -e '.[bench]'"}
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": connection_url()}
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "earful", "serve", "--no-listen"),
            *("--port", str(port), "--threads", str(threads)),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_port(port)
        out = Path(tempfile.mkdtemp(prefix="earful-load-")) / "run"
        load_env = {
            **os.environ,
            "EARFUL_LOAD_ORG": slug,
            "EARFUL_LOAD_SESSION": client.cookies["sessionid"].value,
            "EARFUL_LOAD_CONVERSATIONS": str(max(numbers)),
            "EARFUL_LOAD_WORDS": ",".join(SEARCH_WORDS),
        }
        ran = subprocess.run(
            [
                str(locust),
                "-f",
                str(Path(__file__).with_name("locustfile.py")),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(max(1, users // 10)),
                "--run-time",
                f"{seconds}s",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(out),
                "--only-summary",
            ],
            env=load_env,
            check=False,
            capture_output=True,
        )
        stats = Path(f"{out}_stats.csv")
        if not stats.exists():
            raise RuntimeError(f"locust failed: {ran.stderr.decode()[-2000:]}")
        return _locust_summary(stats, users, seconds) | {"threads": threads}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def _locust_summary(path: Path, users: int, seconds: int) -> dict[str, Any]:
    rows = {row["Name"]: row for row in csv.DictReader(path.open(encoding="utf-8"))}
    total = rows["Aggregated"]
    return {
        "users": users,
        "seconds": seconds,
        "requests": int(total["Request Count"]),
        "errors": int(total["Failure Count"]),
        "requests_per_second": round(float(total["Requests/s"]), 1),
        "p50_ms": _milliseconds(total["50%"]),
        "p99_ms": _milliseconds(total["99%"]),
        "p99_ms_by_page": {
            name: _milliseconds(row["99%"]) for name, row in rows.items() if name != "Aggregated"
        },
    }


def _milliseconds(value: str) -> float | None:
    """A locust percentile: "N/A" when nothing answered."""
    return None if value == "N/A" else float(value)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"earful serve did not open port {port}")
