"""The CLI functions: `earful triage` JSON lines in/out, `earful train` errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from earful.cli import triage_commands as tc


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("triage")(tc.triage)
    app.command("train")(tc.train)
    app.command("quality")(tc.bench_quality)
    return app


def test_run_triage_keeps_order_and_reports_bad_lines() -> None:
    lines = [
        json.dumps({"id": 1, "text": "where is my refund??"}),
        "not json at all",
        json.dumps({"id": "b", "text": "love it, thanks!"}),
        json.dumps({"id": 3}),
        json.dumps([1, 2]),
        "",
        json.dumps({"id": 4, "text": 42}),
        json.dumps({"id": None, "text": "<b>'; drop table x; --</b>"}),
    ]
    out = io.StringIO()
    errors = tc.run_triage("fast", [ln + "\n" for ln in lines], out)
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r.get("id") for r in rows] == [1, None, "b", 3, None, 4, None]
    assert errors == 4
    assert "error" in rows[1] and "error" in rows[3] and "error" in rows[4] and "error" in rows[5]
    for r in (rows[0], rows[2], rows[6]):
        assert "error" not in r
        assert {
            "sentiment",
            "sentiment_scores",
            "complaint",
            "complaint_score",
            "suggestion",
            "suggestion_score",
            "question",
            "praise",
            "intent",
            "needs_reply",
            "language",
        } <= set(r)
    assert rows[0]["question"] is True
    assert rows[2]["sentiment"] == "positive"


def test_triage_command_via_typer() -> None:
    stdin = "\n".join(json.dumps({"id": i, "text": f"message {i}"}) for i in range(700))
    result = CliRunner().invoke(_app(), ["triage", "--model", "fast"], input=stdin)
    assert result.exit_code == 0, result.output
    ids = [json.loads(x)["id"] for x in result.stdout.splitlines()]
    assert ids == list(range(700))


def test_triage_unknown_model() -> None:
    result = CliRunner().invoke(_app(), ["triage", "--model", "nope"], input="")
    assert result.exit_code != 0


def test_train_missing_data_dir_exits_nonzero(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["train", "--data-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "labeled data not found" in result.output


def test_train_with_corrections_file(tmp_path: Path) -> None:
    corr = tmp_path / "c.jsonl"
    corr.write_text(json.dumps({"text": "meh", "field": "complaint", "value": True}) + "\n")
    out = tmp_path / "org.npz"
    result = CliRunner().invoke(
        _app(), ["train", "--with-corrections", str(corr), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.is_file()
    assert "1 corrections used" in result.output


def test_triage_survives_invalid_utf8() -> None:
    stdin = b'{"id": 1, "text": "caf\xe9 \xff\xfe broken"}\n{"id": 2, "text": "ok"}\n'
    result = CliRunner().invoke(_app(), ["triage", "--model", "fast"], input=stdin)
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [1, 2]
    assert all("sentiment" in r for r in rows)
