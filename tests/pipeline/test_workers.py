"""Scale-out mode: an import enqueues, `earful worker` processes, kill -9 loses nothing.

These run real processes against the real broker (Redis) and the test database; without
Redis they skip with a message, unless EARFUL_REQUIRE_SERVICES=1 (CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from earful.channels.models import RawMessage
from earful.config import connection_url
from earful.conversations.models import Message

REDIS_URL = os.environ.get("EARFUL_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scale_out_env(tmp_path: Path) -> dict[str, str]:
    """The environment of every process of one scale-out installation, on the test database."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as exc:
        message = f"Redis is not reachable at {REDIS_URL} ({exc.__class__.__name__})"
        if os.environ.get("EARFUL_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message}; EARFUL_REQUIRE_SERVICES=1 demands it")
        pytest.skip(f"{message}; start Redis or set EARFUL_TEST_REDIS_URL")
    return {
        **os.environ,
        "DATABASE_URL": connection_url(),
        "EARFUL_BROKER_URL": REDIS_URL,
        # A queue of this test's own: concurrent runs on one Redis never take each other's tasks.
        "EARFUL_QUEUE": f"earful-test-{tmp_path.name}-{os.getpid()}",
        "EARFUL_SWEEP_AFTER_SECONDS": "3",
        "EARFUL_HOME": str(tmp_path),
    }


@pytest.fixture
def workers(scale_out_env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Started `earful worker` processes (append more with start_worker); all stopped after."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def start_worker(env: dict[str, str], workers: list[subprocess.Popen[bytes]]) -> None:
    """One `earful worker` (its own process group, so kill -9 takes its children too)."""
    command = [sys.executable, "-m", "earful", "worker", "--concurrency", "1", "--sweep-every", "1"]
    workers.append(
        subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    )


def write_messages(path: Path, total: int) -> Path:
    """A JSON-lines export: threads of three, each reply naming its parent."""
    with path.open("w", encoding="utf-8") as out:
        for n in range(total):
            reply = {"in_reply_to": str(n - 1)} if n % 3 else {}
            line = {
                "id": str(n),
                "text": f"message {n}: my order {n // 3} is late",
                "created_at": "2026-11-01T10:00:00Z",
                "author": {"external_id": f"u{n // 3}"},
                **reply,
            }
            out.write(json.dumps(line) + "\n")
    return path


def run_import(env: dict[str, str], path: Path) -> str:
    """`earful import` as the web app or an operator would run it; returns what it printed."""
    command = [sys.executable, "-m", "earful", "import", str(path), "--format", "jsonl"]
    done = subprocess.run(
        [*command, "--org", "acme"], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def wait_until_processed(total: int, workers: list[subprocess.Popen[bytes]], limit: float) -> None:
    """Poll the database until every raw message is processed (or the limit passes)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if RawMessage.objects.filter(processed_at__isnull=False).count() >= total:
            return
        assert any(w.poll() is None for w in workers), "every worker has exited"
        time.sleep(0.2)
    done = RawMessage.objects.filter(processed_at__isnull=False).count()
    pytest.fail(f"{done} of {total} processed after {limit} s")


def assert_each_message_once(total: int) -> None:
    """Every record became exactly one message, threaded as in the file."""
    assert Message.objects.count() == total
    assert Message.objects.values("external_id").distinct().count() == total
    assert Message.objects.filter(parent__isnull=False).count() == total - (total + 2) // 3
    assert Message.objects.values("conversation").distinct().count() == (total + 2) // 3


def test_workers_process_what_an_import_sends_them(
    scale_out_env: dict[str, str], workers: list[subprocess.Popen[bytes]], tmp_path: Path, org: Any
) -> None:
    total = 600
    start_worker(scale_out_env, workers)
    start_worker(scale_out_env, workers)

    printed = run_import(scale_out_env, write_messages(tmp_path / "in.jsonl", total))

    assert "sent to the workers" in printed
    wait_until_processed(total, workers, limit=240)
    assert_each_message_once(total)


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    scale_out_env: dict[str, str], workers: list[subprocess.Popen[bytes]], tmp_path: Path, org: Any
) -> None:
    total = 3000
    start_worker(scale_out_env, workers)
    run_import(scale_out_env, write_messages(tmp_path / "in.jsonl", total))
    deadline = time.monotonic() + 240
    while RawMessage.objects.filter(processed_at__isnull=False).count() < 200:
        assert time.monotonic() < deadline, "the worker processed nothing"
        time.sleep(0.05)

    os.killpg(workers[0].pid, signal.SIGKILL)
    workers[0].wait()
    assert RawMessage.objects.filter(processed_at__isnull=True).exists()
    start_worker(scale_out_env, workers)

    wait_until_processed(total, workers, limit=300)
    assert_each_message_once(total)
    assert not RawMessage.objects.filter(dead_at__isnull=False).exists()
