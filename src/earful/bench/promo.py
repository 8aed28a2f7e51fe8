"""`earful bench promo`: how well the promote-last rule tells promotional posts from engaging ones.

Two sources. Engaging: every brand reply (inbound False) in the public Customer Support
on Twitter sample, ../shared/data/twcs/twcs_head.csv, read at run time and never copied
into the repository. Promotional, plus hard engaging posts (outage notices, tips,
community questions that mention prices): the set written for earful in
earful/insights/data/promo_posts.json (labeling guide and provenance:
docs/promo-labeling.md). Each example is in the dev half or the held-out half by a hash,
so changes to the rule are made looking at dev only and judged on held-out.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earful.insights.promo import is_promotional

POSTS = Path(__file__).resolve().parents[1] / "insights" / "data" / "promo_posts.json"
SPLITS = ("dev", "held_out")


@dataclass(frozen=True)
class Example:
    """One labeled post: its text, whether it is promotional, its half and where it came from."""

    text: str
    promotional: bool
    split: str
    source: str


def split_of(key: str) -> str:
    """The half an example belongs to: dev when the first byte of sha256(key) is even."""
    return "dev" if hashlib.sha256(key.encode()).digest()[0] % 2 == 0 else "held_out"


def written_posts(path: Path = POSTS) -> list[Example]:
    """The written set: promotional posts and hard engaging ones, with their stored half."""
    document = json.loads(path.read_text(encoding="utf-8"))
    examples = []
    for post in document["posts"]:
        if post["split"] != split_of(post["text"]):
            raise ValueError(f"{post['text']!r} is in the wrong half; the split is by hash")
        promotional = post["label"] == "promotional"
        source = "written promotional" if promotional else "written hard engaging"
        examples.append(Example(post["text"], promotional, post["split"], source))
    return examples


def twcs_brand_replies(path: Path) -> list[Example]:
    """Every brand reply of a twcs file as an engaging example (halves by tweet id)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Example(row["text"], False, split_of(row["tweet_id"]), "twcs brand replies")
            for row in csv.DictReader(handle)
            if row["inbound"] == "False"
        ]


@dataclass(frozen=True)
class Scores:
    """A confusion matrix (promotional is the positive class) and the figures from it."""

    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int

    @property
    def precision(self) -> float:
        """Of the posts called promotional, the share that are."""
        called = self.true_positive + self.false_positive
        return self.true_positive / called if called else 0.0

    @property
    def recall(self) -> float:
        """Of the promotional posts, the share called promotional."""
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else 0.0

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def accuracy(self) -> float:
        """The share of all posts classified right."""
        total = self.true_positive + self.false_positive + self.false_negative
        total += self.true_negative
        return (self.true_positive + self.true_negative) / total if total else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The matrix, the set sizes and the figures, rounded for printing."""
        return {
            "promotional": self.true_positive + self.false_negative,
            "engaging": self.false_positive + self.true_negative,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "accuracy": round(self.accuracy, 4),
            "confusion": {
                "true_positive": self.true_positive,
                "false_positive": self.false_positive,
                "false_negative": self.false_negative,
                "true_negative": self.true_negative,
            },
        }


def score(examples: Iterable[Example], classify: Callable[[str], bool]) -> Scores:
    """Classify every example and count the four outcomes."""
    tp = fp = fn = tn = 0
    for example in examples:
        called = classify(example.text)
        if example.promotional:
            tp, fn = (tp + 1, fn) if called else (tp, fn + 1)
        else:
            fp, tn = (fp + 1, tn) if called else (fp, tn + 1)
    return Scores(tp, fp, fn, tn)


def run(
    twcs: Path | None,
    *,
    classify: Callable[[str], bool] = is_promotional,
    show_misses: bool = False,
) -> dict[str, Any]:
    """Scores of the rule on each half and both, by source too; dev misses on request.

    Misses are listed for the dev half only: the held-out half stays unread while the
    rule is changed.
    """
    examples = written_posts()
    if twcs is not None:
        examples += twcs_brand_replies(twcs)
    result: dict[str, Any] = {"twcs": str(twcs) if twcs is not None else None}
    for half in (*SPLITS, "all"):
        chosen = [e for e in examples if half in {"all", e.split}]
        figures = score(chosen, classify).as_dict()
        figures["by_source"] = {
            source: _source_figures([e for e in chosen if e.source == source], classify)
            for source in sorted({e.source for e in chosen})
        }
        result[half] = figures
    if show_misses:
        result["dev_misses"] = [
            {"text": e.text, "promotional": e.promotional, "source": e.source}
            for e in examples
            if e.split == "dev" and classify(e.text) != e.promotional
        ]
    return result


def _source_figures(examples: list[Example], classify: Callable[[str], bool]) -> dict[str, Any]:
    right = sum(classify(e.text) == e.promotional for e in examples)
    return {"posts": len(examples), "right": right, "wrong": len(examples) - right}
