"""Corrections folded into a retrained model change its output."""

from __future__ import annotations

from pathlib import Path

import pytest

from earful.triage import Triager, load_triager
from earful.triage.corrections import expand, train_with_corrections, triager_from_weights
from earful.triage.models import BEST_DIR, WEIGHTS_DIR, FastScorer, LinearHeads

HAVE_BEST = (WEIGHTS_DIR / BEST_DIR / "model.onnx").is_file()

TEXT = "the new dashboard layout moved the export button again"


def test_correction_flips_complaint(fast: Triager, tmp_path: Path) -> None:
    before = fast.label([TEXT])[0]
    want = not before.complaint
    heads = train_with_corrections("fast", [(TEXT, "complaint", want)])
    assert isinstance(heads, LinearHeads)
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
    assert isinstance(heads, LinearHeads)
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
    assert isinstance(heads, LinearHeads)
    assert (heads.coef == base.coef).all()
    assert heads.meta["corrections_skipped"] == 1


@pytest.mark.skipif(not HAVE_BEST, reason="best weights not present")
def test_correction_changes_best(tmp_path: Path) -> None:
    best = load_triager("best")
    before = best.label([TEXT])[0]
    want = not before.complaint
    adj = train_with_corrections("best", [(TEXT, "complaint", want)])
    path = tmp_path / "org-best.npz"
    adj.save(path)
    org = triager_from_weights(path)
    assert org.name == "best"
    assert org.label([TEXT])[0].complaint is want
    assert best.label([TEXT])[0] == before
    # Corrections accumulate when the org's file is the base of the next round.
    again = train_with_corrections(path, [("great, thanks!", "sentiment", "positive")])
    assert again.meta["corrections"] == 2
