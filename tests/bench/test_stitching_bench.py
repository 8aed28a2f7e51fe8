"""The stitching benchmark: pairwise scoring, and a small run over its generated corpus."""

from __future__ import annotations

from datetime import UTC, datetime

from earful.bench.stitching import pair_score, run
from earful.bench.stitching_corpus import generate


def test_pair_score_counts_pairs_within_clusters() -> None:
    truth = {"a": 1, "b": 1, "c": 1, "d": 2}
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y"}

    score = pair_score(truth, predicted)

    assert (score.true_pairs, score.predicted_pairs, score.correct_pairs) == (3, 2, 1)
    assert (score.precision, score.recall) == (0.5, 1 / 3)


def test_the_corpus_is_deterministic_and_has_same_name_decoys() -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    people, messages = generate(people=200, seed=3, start=start)
    again = generate(people=200, seed=3, start=start)[1]

    assert messages == again
    names = [p.name for p in people]
    assert len(set(names)) < len(names)
    assert {m.platform for m in messages} >= {"x", "mastodon", "email"}


def test_a_small_run_never_merges_two_people(db: None) -> None:
    result = run(people=40, seed=2, twcs=None)

    assert result["customers_mixing_people"] == 0
    assert result["identity_links"]["true_pairs"] > 0
    assert result["conversation_joins"]["correct_pairs"] > 0
