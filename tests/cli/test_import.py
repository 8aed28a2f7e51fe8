"""`earful import`: the twcs sample imports whole, re-runs import nothing, a killed run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from earful.channels.files import FileFormat
from earful.channels.models import RawMessage
from earful.cli.importing import run_import
from earful.config import connection_url
from earful.conversations.models import Message


def _import(path: Path, fmt: FileFormat, org: str = "acme") -> Any:
    return run_import(
        path, fmt, org_slug=org, channel_name=None, channel_kind=None, batch_size=1000
    )


@pytest.mark.slow
def test_the_twcs_sample_imports_with_every_reply_linked(shared_data: Path, db: None) -> None:
    sample = shared_data / "twcs" / "twcs_head.csv"

    first = _import(sample, FileFormat.TWCS)
    second = _import(sample, FileFormat.TWCS)

    assert (first.report.stored, first.rejected, first.linked_replies) == (5000, 0, 3688)
    assert (second.report.stored, second.report.duplicates) == (0, 5000)
    assert Message.objects.count() == 5000


def test_broken_records_get_clear_errors_and_the_rest_is_stored(tmp_path: Path, db: None) -> None:
    path = tmp_path / "mixed.jsonl"
    good = {"text": "fine", "created_at": "2026-11-01T10:00:00Z"}
    with path.open("wb") as out:
        out.write(json.dumps({"id": "1", **good}).encode() + b"\n")
        out.write(b'{"id": "2", "text": "caf\xe9", "created_at": "2026-11-01T10:00:00Z"}\n')
        out.write(json.dumps({"id": "3", "created_at": "2026-11-01T10:00:00Z"}).encode() + b"\n")
        out.write(
            json.dumps({"id": "4", "text": "x" * 1_048_576, "created_at": "2026-11-01"}).encode()
            + b"\n"
        )
        out.write(
            json.dumps({"id": "5", "text": ["not", "text"], "created_at": [7]}).encode() + b"\n"
        )
        out.write(b"{truncated\n")
        out.write(json.dumps({"id": "7", **good}).encode() + b"\n")

    summary = _import(path, FileFormat.JSONL)

    reasons = {r.record_number: r.reason for r in summary.first_rejections}
    assert reasons == {
        2: "text is not valid UTF-8",
        3: "text Field required",
        4: "text is too long (limit 100,000 characters)",
        5: "text Input should be a valid string; created_at Input should be a valid datetime",
        6: "not valid JSON: Expecting property name enclosed in double quotes",
    }
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["1", "7"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_import_completes_on_rerun(tmp_path: Path) -> None:
    total = 12_000
    path = tmp_path / "many.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for n in range(total):
            reply = {"in_reply_to": str(n - 1)} if n % 3 else {}
            out.write(
                json.dumps(
                    {
                        "id": str(n),
                        "text": f"message number {n} about my order",
                        "created_at": "2026-11-01T10:00:00Z",
                        "author": {"external_id": f"u{n % 700}"},
                        **reply,
                    }
                )
                + "\n"
            )
    command = [
        sys.executable,
        "-m",
        "earful",
        "import",
        str(path),
        "--format",
        "jsonl",
        "--org",
        "acme",
        "--batch-size",
        "200",
    ]
    env = {**os.environ, "DATABASE_URL": connection_url()}

    victim = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 180
    while RawMessage.objects.count() < 1000 and time.monotonic() < deadline:
        assert victim.poll() is None, "the import ended before it could be killed"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    stored_before_kill = RawMessage.objects.count()
    assert 0 < stored_before_kill < total

    subprocess.run(command, env=env, check=True, capture_output=True)

    assert Message.objects.count() == total
    assert Message.objects.values("external_id").distinct().count() == total
    assert not RawMessage.objects.filter(processed_at__isnull=True).exists()
    assert Message.objects.filter(parent__isnull=False).count() == total - total // 3
