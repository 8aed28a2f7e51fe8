"""`earful bench insights`: seed N realistic messages fast, then time every dashboard query.

Seeding skips the pipeline (triage, threading) and writes finished rows with bulk_create in
chunks: customers and identities (log-normal audiences), conversations, the customer's
first message, our reply (most of the time, after a log-normal delay), sometimes a
follow-up and our next reply, and a first-response SLA clock per conversation. Then each
insight table, the scorecard, the daily rollups and the pages are timed over repeats (p50 /
p99).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from earful.channels.models import Channel
from earful.conversations.models import Conversation, Direction, Message, Status
from earful.customers.models import Customer, Identity
from earful.inbox.models import SlaClock, SlaMetric
from earful.insights import rollups, snapshots
from earful.insights.dashboard import TABLES
from earful.insights.models import DayRollup
from earful.insights.tables import Window
from earful.org.models import Department, Organization, Role
from earful.org.services import add_member, create_organization

CHUNK = 5_000
BASE = 100_000
CHANNELS = (
    ("X", "x"),
    ("Mastodon", "mastodon"),
    ("Support email", "email"),
    ("Reviews", "reviews"),
)
SENTIMENTS = (("negative", 0.35), ("neutral", 0.45), ("positive", 0.20))
TOPICS = ("billing", "network", "app", "delivery", "account", "")
AGENTS = 8
CHOSEN_DAYS = 90


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def seed(messages: int, *, days: int, now: datetime, seed_value: int = 5) -> Organization:
    """Write about `messages` messages over the last `days` days; returns the organization.

    Up to BASE messages are made row by row with bulk_create; beyond that the base is copied
    in the database (INSERT ... SELECT with shifted ids, fresh codes and external ids), which
    keeps a million-message seed to minutes on a busy machine.
    """
    base = min(messages, BASE)
    organization = _seed_rows(base, days=days, now=now, seed_value=seed_value)
    written = Message.objects.filter(organization=organization).count()
    copies = max(0, round(messages / written) - 1) if written else 0
    for copy in range(1, copies + 1):
        _copy_rows(copy)
    return organization


def _uuid_sql() -> str:
    if connection.vendor == "postgresql":
        return "gen_random_uuid()"
    return "lower(hex(randomblob(16)))"


def _copy_rows(copy: int) -> None:
    """Insert one more copy of every conversation, its channels, messages and SLA clocks."""
    shifts: dict[str, int] = {}
    for model in (Conversation, Message, SlaClock, Conversation.channels.through):
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            (top,) = cursor.fetchone()
        shifts[table] = int(top) // copy  # the base's top id: copy n sits n tops above it
    conversation, message = Conversation._meta.db_table, Message._meta.db_table
    special = {
        "id": lambda table: f"id + {copy * shifts[table]}",
        "code": lambda table: _uuid_sql(),
        "number": lambda table: f"number + {copy * shifts[conversation]}",
        "conversation_id": lambda table: f"conversation_id + {copy * shifts[conversation]}",
        "parent_id": lambda table: f"parent_id + {copy * shifts[message]}",
        "external_id": lambda table: f"external_id || '~{copy}'",
        "in_reply_to_external_id": lambda table: (
            f"CASE WHEN in_reply_to_external_id = '' THEN '' "
            f"ELSE in_reply_to_external_id || '~{copy}' END"
        ),
    }
    for model in (Conversation, Conversation.channels.through, Message, SlaClock):
        table = model._meta.db_table
        columns = [f.column for f in model._meta.concrete_fields if f.column]
        values = [special[c](table) if c in special else c for c in columns]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - our own names
                f"SELECT {', '.join(values)} FROM {table} WHERE id <= {shifts[table]}"
            )


def _seed_rows(messages: int, *, days: int, now: datetime, seed_value: int) -> Organization:
    """Bulk-write about `messages` messages, thread by thread, with bulk_create in chunks."""
    rng = random.Random(seed_value)  # noqa: S311 - benchmark traffic, not secrets
    organization = create_organization("Bench Mobile", "bench")
    agents = [
        add_member(organization, f"agent{n}@bench.example", role=Role.AGENT).user
        for n in range(AGENTS)
    ]
    departments = list(Department.objects.filter(organization=organization))
    channels = [
        Channel.objects.create(organization=organization, name=name, kind=kind)
        for name, kind in CHANNELS
    ]
    people = max(10, messages // 10)
    customers = Customer.objects.bulk_create(
        [Customer(organization=organization, display_name=f"c{n}") for n in range(people)],
        batch_size=CHUNK,
    )
    identities = Identity.objects.bulk_create(
        [
            Identity(
                organization=organization,
                customer=customer,
                platform="x",
                external_id=f"u{n}",
                handle=f"u{n}",
                audience_size=int(rng.lognormvariate(5.0, 2.2)),
            )
            for n, customer in enumerate(customers)
        ],
        batch_size=CHUNK,
    )
    written, number = 0, 0
    span = days * 86400
    while written < messages:
        size = min(CHUNK // 3, max(1, (messages - written) // 3 + 1))
        threads = []
        for _ in range(size):
            number += 1
            who = rng.randrange(people)
            started = now - timedelta(seconds=rng.uniform(60, span))
            answered = rng.random() < 0.8
            delay = timedelta(minutes=min(rng.lognormvariate(3.0, 1.2), 2880))
            first_response = started + delay if answered and started + delay < now else None
            threads.append((number, who, started, first_response, rng.choice(channels)))
        conversations = Conversation.objects.bulk_create(
            [
                Conversation(
                    organization=organization,
                    number=n,
                    customer=customers[who],
                    department=rng.choice(departments),
                    assignee=rng.choice(agents),
                    started_at=started,
                    last_message_at=first or started,
                    waiting_since=None if first else started,
                    first_response_at=first,
                    status=Status.RESOLVED if first and rng.random() < 0.7 else Status.OPEN,
                )
                for n, who, started, first, _ in threads
            ]
        )
        Conversation.channels.through.objects.bulk_create(
            [
                Conversation.channels.through(conversation_id=c.pk, channel_id=t[4].pk)
                for c, t in zip(conversations, threads, strict=True)
            ]
        )
        firsts = Message.objects.bulk_create(
            [
                _message(rng, organization, c, t[4], identities[t[1]], t[2], f"m{t[0]}")
                for c, t in zip(conversations, threads, strict=True)
            ]
        )
        replied = [
            (c, _reply(organization, c, t[4], first, rng.choice(agents), t[3], f"r{t[0]}"))
            for c, t, first in zip(conversations, threads, firsts, strict=True)
            if t[3] is not None
        ]
        replies = Message.objects.bulk_create([reply for _, reply in replied])
        author = {c.pk: identities[t[1]] for c, t in zip(conversations, threads, strict=True)}
        follow_ups = []
        for conversation, reply in replied:
            at = reply.created_at + timedelta(minutes=rng.uniform(5, 600))
            if rng.random() < 0.25 and at < now:
                follow_ups.append(
                    _message(
                        rng,
                        organization,
                        conversation,
                        reply.channel,
                        author[conversation.pk],
                        at,
                        f"f{conversation.number}",
                        parent=reply,
                    )
                )
        Message.objects.bulk_create(follow_ups)
        SlaClock.objects.bulk_create(
            [
                SlaClock(
                    organization=organization,
                    conversation=c,
                    metric=SlaMetric.FIRST_RESPONSE,
                    started_at=c.started_at,
                    due_at=c.started_at + timedelta(hours=1),
                    stopped_at=c.first_response_at,
                    breached_at=None
                    if c.first_response_at
                    and c.first_response_at <= c.started_at + timedelta(hours=1)
                    else c.started_at + timedelta(hours=1),
                )
                for c in conversations
            ]
        )
        written += len(firsts) + len(replies) + len(follow_ups)
    return organization


def _message(
    rng: random.Random,
    organization: Organization,
    conversation: Conversation,
    channel: Channel,
    identity: Identity | None,
    at: datetime,
    external_id: str,
    parent: Message | None = None,
) -> Message:
    return Message(
        organization=organization,
        channel=channel,
        conversation=conversation,
        identity=identity,
        direction=Direction.IN,
        external_id=external_id,
        parent=parent,
        in_reply_to_external_id=parent.external_id if parent else "",
        text="my bill is wrong again",
        created_at=at,
        sentiment=_pick(rng, SENTIMENTS),
        topic=rng.choice(TOPICS),
        intent="complaint" if rng.random() < 0.3 else "question",
        join_rule="new" if parent is None else "reply",
    )


def _reply(
    organization: Organization,
    conversation: Conversation,
    channel: Channel,
    parent: Message,
    agent: User,
    at: datetime,
    external_id: str,
) -> Message:
    return Message(
        organization=organization,
        channel=channel,
        conversation=conversation,
        direction=Direction.OUT,
        sent_by=agent,
        external_id=external_id,
        parent=parent,
        in_reply_to_external_id=parent.external_id,
        text="Sorry about that, we are on it.",
        created_at=at,
        join_rule="reply",
    )


def _time(run: Callable[[], Any], repeats: int) -> dict[str, float]:
    run()  # warm the caches once, as a dashboard in use would be
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    samples.sort()
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return {"p50_ms": round(statistics.median(samples) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


def run(*, messages: int, days: int, repeats: int) -> dict[str, Any]:
    """Seed, then time each live query over the default 30 days, the snapshot refresh, the
    daily rollups (first build, then a tick with nothing new), each table read from the
    rollups over a chosen range of the last 90 days, and the pages: the default view (from
    its snapshot) and the chosen range, all channels and one channel (from the rollups)."""
    now = timezone.now().astimezone(UTC)
    started = time.perf_counter()
    organization = seed(messages, days=days, now=now)
    seeded = time.perf_counter() - started
    _analyze()
    stored = Message.objects.filter(organization=organization).count()
    window = Window(organization, now - timedelta(days=30), now)
    timings = {name: _time(partial(build, window, now), repeats) for name, build in TABLES.items()}
    timings["snapshot refresh (tick)"] = _time(
        lambda: snapshots.refresh(organization, timezone.now(), force=True), repeats
    )
    started = time.perf_counter()
    built = rollups.roll(organization, now)
    timings["rollups, first build (tick)"] = _once(started)
    _analyze()
    timings["rollups, tick with nothing new"] = _time(lambda: rollups.roll(organization, now), 1)
    first = (now - timedelta(days=CHOSEN_DAYS - 1)).date()
    chosen = Window(
        organization,
        datetime.combine(first, datetime.min.time(), tzinfo=UTC),
        datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
    )
    for name, build_rolled in rollups.TABLES.items():
        timings[f"{name} (rollups, {CHOSEN_DAYS} days)"] = _time(
            partial(_rolled, build_rolled, chosen), repeats
        )
    owner = add_member(organization, "owner@bench.example", role=Role.ADMIN).user
    client = Client(SERVER_NAME="localhost")
    client.force_login(owner)
    query = f"?start={first.isoformat()}&end={now.date().isoformat()}"
    code = Channel.objects.filter(organization=organization).order_by("pk").first()
    one = f"{query}&channel={code.code if code else ''}"
    pages = {
        "dashboard page, default view": "/o/bench/insights/",
        "scorecard page, default view": "/o/bench/insights/scorecard/",
        f"dashboard page, chosen {CHOSEN_DAYS} days": f"/o/bench/insights/{query}",
        f"scorecard page, chosen {CHOSEN_DAYS} days": f"/o/bench/insights/scorecard/{query}",
        f"dashboard page, chosen {CHOSEN_DAYS} days, one channel": f"/o/bench/insights/{one}",
        f"scorecard page, chosen {CHOSEN_DAYS} days, one channel": (
            f"/o/bench/insights/scorecard/{one}"
        ),
    }
    timings |= {name: _time(partial(_get, client, path), repeats) for name, path in pages.items()}
    return {
        "messages": stored,
        "days": days,
        "messages_in_30_days": Message.objects.filter(
            organization=organization, created_at__gte=window.start
        ).count(),
        "seed_seconds": round(seeded, 1),
        "rolled_days": built.days,
        "rollup_rows": DayRollup.objects.filter(organization=organization).count(),
        "repeats": repeats,
        "database": connection.vendor,
        "timings": timings,
    }


def _analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would gather them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _once(started: float) -> dict[str, float]:
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    return {"p50_ms": elapsed, "p99_ms": elapsed}


def _rolled(build: Callable[[rollups.Reader], Any], window: Window) -> Any:
    reader = rollups.reader(window)
    if reader is None:
        raise RuntimeError("the chosen range has no rolled days")
    return build(reader)


def _get(client: Client, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
