"""Helpers of the scale-out tests: start workers, write an export, import it, wait."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from earful.channels.models import RawMessage
from earful.conversations.models import Message


def start_worker(env: dict[str, str], workers: list[subprocess.Popen[bytes]]) -> None:
    """One `earful worker` (its own process group, so kill -9 takes its children too)."""
    command = [sys.executable, "-m", "earful", "worker", "--concurrency", "1", "--sweep-every", "1"]
    # Each worker logs to a file of the test's own, shown if the test times out.
    log = Path(env["EARFUL_HOME"]) / f"worker-{len(workers) + 1}.log"
    with log.open("ab") as output:
        workers.append(
            subprocess.Popen(
                command,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
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


def wait_until_processed(
    total: int, workers: list[subprocess.Popen[bytes]], home: Path, limit: float
) -> None:
    """Poll the database until every raw message is processed (or the limit passes, when the
    workers' logs under `home` are shown)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if RawMessage.objects.filter(processed_at__isnull=False).count() >= total:
            return
        assert any(w.poll() is None for w in workers), "every worker has exited"
        time.sleep(0.2)
    done = RawMessage.objects.filter(processed_at__isnull=False).count()
    logs = "\n".join(
        f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-40:])
        for path in sorted(home.glob("worker-*.log"))
    )
    pytest.fail(f"{done} of {total} processed after {limit} s\n{logs}")


def assert_each_message_once(total: int) -> None:
    """Every record became exactly one message, threaded as in the file."""
    assert Message.objects.count() == total
    assert Message.objects.values("external_id").distinct().count() == total
    assert Message.objects.filter(parent__isnull=False).count() == total - (total + 2) // 3
    assert Message.objects.values("conversation").distinct().count() == (total + 2) // 3
