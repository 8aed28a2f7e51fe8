"""Scale-out fixtures: the environment of one installation on the test database, and workers.

Without Redis they skip with a message, unless EARFUL_REQUIRE_SERVICES=1 (CI) makes that a
failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from earful.config import connection_url

REDIS_URL = os.environ.get("EARFUL_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


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
