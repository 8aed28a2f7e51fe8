"""Faults in scale-out and embedded mode: after recovery nothing is lost or duplicated.

A broker restart (a private redis-server of the test's own, killed and started again
empty), a database that drops every connection mid-run, and a disk that fills up.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import OperationalError, connection

from earful.channels.models import RawMessage
from earful.conversations.models import Message
from earful.pipeline.ingest import ingest_batch, process_pending, store_raw
from tests.helpers import numbered, record
from tests.pipeline.scale_out import (
    assert_each_message_once,
    run_import,
    start_worker,
    wait_until_processed,
    write_messages,
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test's own that can be killed and started again."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError("the private redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A fresh broker; skips without the redis-server program unless CI demands it."""
    if shutil.which("redis-server") is None:
        import os

        if os.environ.get("EARFUL_REQUIRE_SERVICES") == "1":
            pytest.fail("redis-server is not installed; EARFUL_REQUIRE_SERVICES=1 demands it")
        pytest.skip("needs the redis-server program for a broker of the test's own")
    broker = PrivateRedis(tmp_path)
    broker.start()
    yield broker
    if broker.process is not None and broker.process.poll() is None:
        broker.kill()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_broker_restart_loses_and_duplicates_nothing(
    scale_out_env: dict[str, str],
    workers: list[subprocess.Popen[bytes]],
    private_redis: PrivateRedis,
    tmp_path: Path,
    org: Any,
) -> None:
    total = 1500
    env = {**scale_out_env, "EARFUL_BROKER_URL": private_redis.url}
    start_worker(env, workers)
    run_import(env, write_messages(tmp_path / "in.jsonl", total))
    deadline = time.monotonic() + 240
    while RawMessage.objects.filter(processed_at__isnull=False).count() < 100:
        assert time.monotonic() < deadline, "the worker processed nothing"
        time.sleep(0.05)

    # Redis keeps nothing on disk here: the queued tasks die with it.
    private_redis.kill()
    time.sleep(1)
    private_redis.start()

    wait_until_processed(total, workers, tmp_path, limit=300)
    assert_each_message_once(total)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_database_dropping_every_connection_mid_run_loses_nothing(
    scale_out_env: dict[str, str], workers: list[subprocess.Popen[bytes]], tmp_path: Path, org: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("an embedded SQLite file has no connections to drop")
    total = 1500
    start_worker(scale_out_env, workers)
    run_import(scale_out_env, write_messages(tmp_path / "in.jsonl", total))
    stop = threading.Event()

    def drop_connections() -> None:
        # What a Postgres restart does to its clients, a few times over.
        import psycopg

        from earful.config import connection_url

        url = connection_url()
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            for _ in range(3):
                if stop.wait(2):
                    return
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() "
                    "AND application_name <> 'pytest-main'",
                    (name,),
                )

    with connection.cursor() as cursor:
        cursor.execute("SET application_name = 'pytest-main'")
    dropper = threading.Thread(target=drop_connections)
    dropper.start()
    try:
        wait_until_processed(total, workers, tmp_path, limit=300)
    finally:
        stop.set()
        dropper.join()
    assert_each_message_once(total)
    assert not RawMessage.objects.filter(dead_at__isnull=False).exists()


@pytest.fixture
def disk_quota() -> Iterator[Any]:
    """Cap the embedded database's size, as a full disk would (SQLite only)."""
    if connection.vendor != "sqlite":
        pytest.skip("the size cap is SQLite's max_page_count")

    def cap(extra_pages: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {int(pages) + extra_pages}")

    yield cap
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA max_page_count = 4294967294")


def test_a_full_disk_refuses_new_messages_clearly_and_loses_nothing_stored(
    channel: Any, disk_quota: Any
) -> None:
    ingest_batch(channel, numbered([record("1", "first, stored before the disk filled")]))
    disk_quota(2)
    big = [record(str(n), "x" * 2000) for n in range(2, 200)]

    with pytest.raises(OperationalError, match="full"):
        ingest_batch(channel, numbered(big))

    assert list(Message.objects.values_list("external_id", flat=True)) == ["1"]
    disk_quota(100_000)
    ingest_batch(channel, numbered(big))
    assert Message.objects.count() == 199


def test_a_disk_that_fills_while_processing_leaves_the_messages_pending_not_dead(
    channel: Any, disk_quota: Any
) -> None:
    store_raw(channel, numbered([record(str(n), "y" * 2000) for n in range(100)]))
    disk_quota(2)

    with pytest.raises(OperationalError, match="full"):
        process_pending(channel)

    assert RawMessage.objects.filter(processed_at__isnull=True, dead_at__isnull=True).count() == 100
    disk_quota(100_000)
    assert process_pending(channel) == 100
    assert Message.objects.count() == 100
