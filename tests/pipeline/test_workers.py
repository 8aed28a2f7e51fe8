"""Scale-out mode: an import enqueues, `earful worker` processes, kill -9 loses nothing.

These run real processes against the real broker (Redis) and the test database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from earful.channels.models import RawMessage
from tests.pipeline.scale_out import (
    assert_each_message_once,
    run_import,
    start_worker,
    wait_until_processed,
    write_messages,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_workers_process_what_an_import_sends_them(
    scale_out_env: dict[str, str], workers: list[subprocess.Popen[bytes]], tmp_path: Path, org: Any
) -> None:
    total = 600
    start_worker(scale_out_env, workers)
    start_worker(scale_out_env, workers)

    printed = run_import(scale_out_env, write_messages(tmp_path / "in.jsonl", total))

    assert "sent to the workers" in printed
    wait_until_processed(total, workers, tmp_path, limit=240)
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

    wait_until_processed(total, workers, tmp_path, limit=300)
    assert_each_message_once(total)
    assert not RawMessage.objects.filter(dead_at__isnull=False).exists()
