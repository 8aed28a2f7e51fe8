"""`earful bench ideas`: how often the most similar existing idea is a true duplicate.

Banking77 (public, CC BY 4.0) gives customer sentences labeled with one of 77 intents;
two sentences of the same intent are duplicates. For each split a board is built with two
"existing ideas" for each of 65 intents; every other sampled sentence is a customer typing
a new idea. The 12 intents left off the board, and 300 suggestions about another product
(SemEval-2019 Task 9 forum posts), measure how often an idea is offered when none matches.
The blend weight is chosen on the train split and reported on the test split.
"""

from __future__ import annotations

import csv
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from earful.feedback import similarity

WEIGHTS = (0.0, 0.2, 0.35, 0.5, 0.65, 0.8, 1.0)
UNSEEN_INTENTS = 12
Matrix = np.ndarray[Any, Any]


@dataclass(frozen=True)
class Split:
    """Existing ideas and typed queries, with the intent of each."""

    ideas: list[str]
    idea_intents: list[str]
    queries: list[str]
    query_intents: list[str]


def load_split(
    path: Path, *, per_intent: int, queries_per_intent: int, unseen: int, seed: int
) -> Split:
    """Sample a board and its queries from a banking77 CSV (columns text, category)."""
    by_intent: dict[str, list[str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_intent.setdefault(row["category"], []).append(row["text"])
    rng = random.Random(seed)  # noqa: S311 - sampling a benchmark, not secrets
    intents = sorted(by_intent)
    rng.shuffle(intents)
    absent = set(intents[:unseen])
    split = Split([], [], [], [])
    for intent in sorted(by_intent):
        texts = list(by_intent[intent])
        rng.shuffle(texts)
        if intent not in absent:
            split.ideas.extend(texts[:per_intent])
            split.idea_intents.extend([intent] * per_intent)
            texts = texts[per_intent:]
        split.queries.extend(texts[:queries_per_intent])
        split.query_intents.extend([intent] * min(queries_per_intent, len(texts)))
    return split


def _embed(texts: list[str]) -> Matrix:
    vectors = similarity.embed(texts)
    if vectors is None:
        raise RuntimeError("the best encoder is not available (weights or onnxruntime missing)")
    return vectors


def score_matrices(split: Split) -> tuple[Matrix, Matrix, Matrix, float]:
    """(raw cosines, cosines without the common directions, lexical scores), and seconds."""
    started = time.perf_counter()
    ideas, queries = _embed(split.ideas), _embed(split.queries)
    raw = queries @ ideas.T
    dense = similarity.sharpen(queries) @ similarity.sharpen(ideas).T
    lexical = np.stack([similarity.lexical_scores(q, split.ideas) for q in split.queries])
    return raw, dense, lexical, round(time.perf_counter() - started, 2)


def evaluate(split: Split, scores: Matrix, floor: float | None = None) -> dict[str, float | None]:
    """precision@1, recall@5 and MRR over queries whose intent is on the board.

    With the board's floor: how often the right idea is offered first, and how often an
    idea is offered at all when none matches.
    """
    idea_intents = np.array(split.idea_intents)
    on_board = set(split.idea_intents)
    top1 = hits5 = positives = negatives = offered_wrongly = offered_right = 0
    reciprocal = 0.0
    for row, intent in enumerate(split.query_intents):
        order = np.argsort(-scores[row], kind="stable")
        shown = floor is not None and float(scores[row, order[0]]) >= floor
        if intent not in on_board:
            negatives += 1
            offered_wrongly += shown
            continue
        positives += 1
        right = np.flatnonzero(idea_intents[order] == intent)
        first = int(right[0]) if right.size else len(order)
        top1 += first == 0
        hits5 += first < 5
        reciprocal += 1.0 / (first + 1) if right.size else 0.0
        offered_right += shown and first == 0
    return {
        "precision_at_1": round(top1 / positives, 4),
        "recall_at_5": round(hits5 / positives, 4),
        "mrr": round(reciprocal / positives, 4),
        "right_idea_offered_first": None if floor is None else round(offered_right / positives, 4),
        "offered_when_none_match": None
        if floor is None
        else round(offered_wrongly / max(negatives, 1), 4),
    }


def _split(data: Path, name: str, seed: int) -> Split:
    return load_split(
        data / "banking77" / f"{name}.csv",
        per_intent=2,
        queries_per_intent=10,
        unseen=UNSEEN_INTENTS,
        seed=seed,
    )


def run(data: Path, *, seed: int = 7) -> dict[str, Any]:
    """Choose the blend weight on train, then report embedding, lexical and blends on test."""
    train = _split(data, "train", seed)
    _, dense, lexical, _ = score_matrices(train)
    sweep = {
        str(w): evaluate(train, similarity.blend(dense, lexical, w))["precision_at_1"]
        for w in WEIGHTS
    }
    chosen = max(WEIGHTS, key=lambda w: (sweep[str(w)], -abs(w - 0.5)))
    test = _split(data, "test", seed)
    raw, dense, lexical, seconds = score_matrices(test)
    shipped = similarity.EMBEDDING_WEIGHT
    methods = {
        "embedding, raw": evaluate(test, raw),
        "embedding": evaluate(test, dense),
        "lexical": evaluate(test, lexical, similarity.MIN_LEXICAL),
        f"blend {shipped} (shipped)": evaluate(
            test, similarity.blend(dense, lexical, shipped), similarity.MIN_BLENDED
        ),
    }
    if chosen != shipped:
        methods[f"blend {chosen} (best on train)"] = evaluate(
            test, similarity.blend(dense, lexical, chosen)
        )
    return {
        "data": "banking77",
        "seed": seed,
        "ideas": len(test.ideas),
        "queries": len(test.queries),
        "intents_off_the_board": UNSEEN_INTENTS,
        "floors": {"blend": similarity.MIN_BLENDED, "lexical": similarity.MIN_LEXICAL},
        "train_sweep_precision_at_1": sweep,
        "chosen_weight": chosen,
        "test": methods,
        "test_scoring_seconds": seconds,
        "off_topic_offered": off_topic_rate(data / "suggestions" / "trial_test.csv", test.ideas),
    }


def off_topic_rate(path: Path, ideas: list[str], limit: int = 300) -> dict[str, float] | None:
    """How often a suggestion about another product (SemEval-2019 forum posts) gets an offer."""
    if not path.is_file():
        return None
    with path.open(newline="", encoding="latin-1") as handle:
        texts = [row["sentence"] for row in csv.DictReader(handle) if row["label"] == "1"]
    texts = texts[:limit]
    vectors, queries = similarity.sharpen(_embed(ideas)), similarity.sharpen(_embed(texts))
    lexical = np.stack([similarity.lexical_scores(t, ideas) for t in texts])
    blended = similarity.blend(queries @ vectors.T, lexical, similarity.EMBEDDING_WEIGHT)
    return {
        "texts": len(texts),
        "lexical": round(float((lexical.max(1) >= similarity.MIN_LEXICAL).mean()), 4),
        "blend (shipped)": round(float((blended.max(1) >= similarity.MIN_BLENDED).mean()), 4),
    }


def fit_common_directions(data: Path, *, count: int = 6, per_source: int = 1000) -> Path:
    """Refit the mean and top directions on public customer texts; write them; return the path.

    Sources: banking77 train (never its test split), customers' tweets from the twcs sample,
    and the SemEval-2019 suggestion-mining train posts, `per_source` of each.
    """
    rng = random.Random(1)  # noqa: S311 - sampling a corpus, not secrets
    with (data / "banking77" / "train.csv").open(newline="", encoding="utf-8") as handle:
        banking = [row["text"] for row in csv.DictReader(handle)]
    with (data / "twcs" / "twcs_head.csv").open(newline="", encoding="utf-8") as handle:
        tweets = [row["text"] for row in csv.DictReader(handle) if row["inbound"] == "True"]
    with (data / "suggestions" / "train.csv").open(newline="", encoding="latin-1") as handle:
        posts = [row[1] for row in csv.reader(handle)][1:]
    corpus: list[str] = []
    for texts in (banking, tweets, posts):
        rng.shuffle(texts)
        corpus.extend(texts[:per_source])
    vectors = _embed(corpus)
    mean = vectors.mean(axis=0)
    _, _, components = np.linalg.svd(vectors - mean, full_matrices=False)
    similarity.DIRECTIONS_FILE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        similarity.DIRECTIONS_FILE,
        mean=mean.astype(np.float32),
        directions=components[:count].astype(np.float32),
    )
    similarity.common_directions.cache_clear()
    return similarity.DIRECTIONS_FILE
