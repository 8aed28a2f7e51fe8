"""Corrections folded into a retrained model change its output."""

from __future__ import annotations

from pathlib import Path

from earful.triage import Triager
from earful.triage.corrections import expand, train_with_corrections, triager_from_weights
from earful.triage.models import FastScorer

TEXT = "the new dashboard layout moved the export button again"


def test_correction_flips_complaint(fast: Triager, tmp_path: Path) -> None:
    before = fast.label([TEXT])[0]
    want = not before.complaint
    heads = train_with_corrections("fast", [(TEXT, "complaint", want)])
    path = tmp_path / "org.npz"
    heads.save(path)
    after = triager_from_weights(path).label([TEXT])[0]
    assert after.complaint is want
    assert heads.meta["corrections"] == 1
    # The committed model is untouched and unrelated texts barely move.
    assert fast.label([TEXT])[0] == before
    other = "thank you for the quick help, all sorted now"
    a = fast.label([other])[0].complaint_score
    b = triager_from_weights(path).label([other])[0].complaint_score
    assert abs(a - b) < 0.2


def test_correction_changes_sentiment_and_generalizes_a_little(fast: Triager) -> None:
    text = "well that was a sick gig, totally wicked"
    base = FastScorer.load().heads
    target = "positive" if fast.label([text])[0].sentiment != "positive" else "negative"
    heads = train_with_corrections(base, [(text, "sentiment", target)] * 3)
    assert Triager(FastScorer(heads)).label([text])[0].sentiment == target


def test_intent_correction_implies_heads() -> None:
    texts, targets, skipped = expand(
        [
            ("a", "intent", "suggestion"),
            ("b", "intent", "praise"),
            ("c", "language", "fr"),
            ("d", "sentiment", "furious"),
        ]
    )
    assert texts == ["a", "b"]
    assert skipped == 2
    assert targets["suggestion"].rows == [0, 1] and targets["suggestion"].values == [1, 0]
    assert targets["sentiment"].values == [2]


def test_no_usable_corrections_keeps_weights() -> None:
    base = FastScorer.load().heads
    heads = train_with_corrections(base, [("x", "topic", "billing")])
    assert (heads.coef == base.coef).all()
    assert heads.meta["corrections_skipped"] == 1
