"""Loaders for the public labeled data in ../shared/data (never committed to the repo)."""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

csv.field_size_limit(10_000_000)

REPO_ROOT = Path(__file__).resolve().parents[4]


class DataMissingError(RuntimeError):
    """The labeled data directory or one of its files is not there."""


@dataclass(frozen=True)
class Dataset:
    """Texts with integer labels (and an optional group per row, e.g. the complaint domain)."""

    texts: list[str]
    labels: list[int]
    groups: list[str] | None = None


def default_data_dir() -> Path:
    """Return ../shared/data relative to the repo (or $EARFUL_DATA_DIR when set)."""
    env = os.environ.get("EARFUL_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "data").resolve()


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    """Return an existing data dir, trying `data_dir` as given, then relative to the repo."""
    if data_dir is None:
        path = default_data_dir()
    else:
        path = Path(data_dir).expanduser()
        if not path.is_absolute() and not path.exists():
            path = REPO_ROOT / path
        path = path.resolve()
    if not (path / "tweeteval" / "sentiment").is_dir():
        raise DataMissingError(
            f"labeled data not found at {path} (expected tweeteval/, complaints/, suggestions/; "
            "see ../shared/data/README.md or pass --data-dir)"
        )
    return path


def _need(path: Path) -> Path:
    if not path.is_file():
        raise DataMissingError(f"missing data file: {path}")
    return path


def tweeteval_train(root: Path) -> Dataset:
    """TweetEval sentiment train.tsv (0 negative, 1 neutral, 2 positive)."""
    texts: list[str] = []
    labels: list[int] = []
    with _need(root / "tweeteval/sentiment/train.tsv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            texts.append(row["text"])
            labels.append(int(row["label"]))
    return Dataset(texts, labels)


def tweeteval_split(root: Path, split: str) -> Dataset:
    """TweetEval sentiment `val` or `test` (text and label files, one line each)."""
    base = root / "tweeteval/sentiment"
    texts = _need(base / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
    labels = _need(base / f"{split}_labels.txt").read_text(encoding="utf-8").split()
    texts = texts[: len(labels)]
    return Dataset([t.strip() for t in texts], [int(x) for x in labels])


def complaints(root: Path) -> Dataset:
    """Complaints on social media (label 1 = complaint; group = domain)."""
    texts: list[str] = []
    labels: list[int] = []
    groups: list[str] = []
    with _need(root / "complaints/train.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            texts.append(row["text"])
            labels.append(int(row["label"]))
            groups.append(row["domain"])
    return Dataset(texts, labels, groups)


def _suggestion_rows(path: Path, encoding: str) -> Dataset:
    texts: list[str] = []
    labels: list[int] = []
    with _need(path).open(encoding=encoding, newline="") as f:
        for row in csv.reader(f):
            if len(row) < 3 or row[-1] not in ("0", "1"):
                continue  # the header, if any
            texts.append(row[1].strip().strip('"'))
            labels.append(int(row[-1]))
    return Dataset(texts, labels)


def suggestions_train(root: Path) -> Dataset:
    """SemEval-2019 Task 9A training sentences (no header)."""
    return _suggestion_rows(root / "suggestions/train.csv", "utf-8")


def suggestions_trial(root: Path) -> Dataset:
    """SemEval-2019 Task 9A trial test (latin-1)."""
    return _suggestion_rows(root / "suggestions/trial_test.csv", "latin-1")


# TwACS wraps turns as "<cust__ __company__ text __cust>"; the markers are not text.
_WRAPPER = re.compile(r"<(?:cust|rep)__|__(?:cust|rep|company|initials)(?:__)?>?")


def twacs_intents(root: Path) -> tuple[list[str], list[str]]:
    """TwACS labeled first customer turns and their intent tags (DELAY, BAGGAGE, ...)."""
    texts: list[str] = []
    tags: list[str] = []
    path = root / "twacs_airlines/intents_labeled.csv"
    with _need(path).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            texts.append(" ".join(_WRAPPER.sub(" ", row["first_utterance"]).split()))
            tags.append(row["tag"])
    return texts, tags


def support_topics(root: Path) -> tuple[list[str], list[set[str]]]:
    """Customer tweets to three brands with their multi-label topic columns."""
    texts: list[str] = []
    topics: list[set[str]] = []
    skip = {
        "",
        "main_tweet_id",
        "tweet_id",
        "in_response_to_tweet_id",
        "response_tweet_id",
        "created_at",
        "author_id",
        "inbound",
        "text",
        "company",
    }
    files = sorted((root / "support_topics").glob("*-inbound.csv"))
    if not files:
        raise DataMissingError(f"missing data files: {root / 'support_topics'}/*-inbound.csv")
    for path in files:
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                texts.append(row["text"])
                topics.append({k for k, v in row.items() if k not in skip and v and v.strip()})
    return texts, topics


def unlabeled_posts(root: Path, limit: int | None = None) -> list[str]:
    """Customer posts without sentiment labels (TwACS first turns, TWCS inbound, TweetEval
    emotion/irony/offensive/hate train texts); used to distill `best` into `fast`."""
    texts: list[str] = []
    conv = root / "twacs_airlines/conversations.csv"
    if conv.is_file():
        with conv.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                texts.append(" ".join(_WRAPPER.sub(" ", row["first_utterance"]).split()))
    twcs = root / "twcs/twcs_head.csv"
    if twcs.is_file():
        with twcs.open(encoding="utf-8", newline="") as f:
            texts.extend(row["text"] for row in csv.DictReader(f) if row["inbound"] == "True")
    for task in ("emotion", "irony", "offensive", "hate"):
        path = root / "tweeteval" / task / "train_text.txt"
        if path.is_file():
            texts.extend(
                t.strip() for t in path.read_text(encoding="utf-8").split("\n") if t.strip()
            )
    texts = [t for t in dict.fromkeys(texts) if t]
    return texts[:limit] if limit else texts
