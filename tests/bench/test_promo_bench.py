"""`earful bench promo`: the labeled set is sound and the figures are counted right."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from earful.bench.promo import Example, run, score, split_of, twcs_brand_replies, written_posts
from earful.cli.main import app


def test_the_written_set_has_both_labels_in_both_halves_split_by_hash() -> None:
    posts = written_posts()
    counts = Counter((p.promotional, p.split) for p in posts)
    assert sum(n for (promotional, _), n in counts.items() if promotional) >= 150
    assert min(counts.values()) >= 30
    assert len({p.text for p in posts}) == len(posts)
    assert all(p.split == split_of(p.text) for p in posts)


def test_score_counts_the_confusion_matrix() -> None:
    examples = [
        Example("sale a", True, "dev", "s"),
        Example("sale b", True, "dev", "s"),
        Example("plain", True, "dev", "s"),
        Example("sale c", False, "dev", "s"),
        Example("quiet", False, "dev", "s"),
        Example("calm", False, "dev", "s"),
    ]
    scores = score(examples, lambda text: text.startswith("sale"))
    figures = scores.as_dict()
    assert figures["confusion"] == {
        "true_positive": 2,
        "false_positive": 1,
        "false_negative": 1,
        "true_negative": 2,
    }
    assert (figures["promotional"], figures["engaging"]) == (3, 3)
    assert figures["precision"] == figures["recall"] == figures["f1"] == round(2 / 3, 4)
    assert figures["accuracy"] == round(4 / 6, 4)


def _twcs(path: Path) -> Path:
    columns = ["tweet_id", "author_id", "inbound", "created_at", "text"]
    rows = [
        ["1", "acme", "False", "Tue Oct 31 22:10:47 +0000 2017", "@1 Sorry, please DM us."],
        ["2", "123", "True", "Tue Oct 31 22:11:45 +0000 2017", "@acme 20% off? where"],
        ["3", "acme", "False", "Tue Oct 31 22:12:45 +0000 2017", "@1 Your discount is applied."],
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def test_brand_replies_are_the_engaging_examples_and_misses_come_from_dev_only(
    tmp_path: Path,
) -> None:
    twcs = _twcs(tmp_path / "twcs.csv")
    replies = twcs_brand_replies(twcs)
    assert [r.text for r in replies] == ["@1 Sorry, please DM us.", "@1 Your discount is applied."]
    assert not any(r.promotional for r in replies)

    result = run(twcs, classify=lambda text: False, show_misses=True)
    written = written_posts()
    assert result["all"]["engaging"] == 2 + sum(not p.promotional for p in written)
    assert result["all"]["by_source"]["twcs brand replies"]["posts"] == 2
    held_out = {p.text for p in written if p.split == "held_out"}
    missed = {m["text"] for m in result["dev_misses"]}
    dev_promotional = {p.text for p in written if p.split == "dev" and p.promotional}
    assert missed == dev_promotional and not held_out & missed


def test_the_command_prints_the_figures_as_json(tmp_path: Path) -> None:
    twcs = _twcs(tmp_path / "twcs.csv")
    answer = CliRunner().invoke(app, ["bench", "promo", "--twcs", str(twcs), "--json"])
    assert answer.exit_code == 0, answer.output
    figures = json.loads(answer.output)
    assert set(figures) >= {"dev", "held_out", "all"}
    assert {"precision", "recall", "f1", "accuracy", "confusion"} <= set(figures["held_out"])
