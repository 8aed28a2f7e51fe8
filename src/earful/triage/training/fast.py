"""Train the `fast` model: hashed n-gram features + logistic-regression heads."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from earful.triage.features import N_FEATURES, count_matrix, document_frequency, weigh
from earful.triage.models import LinearHeads
from earful.triage.text import clean, normalize
from earful.triage.training import data

log = logging.getLogger(__name__)

# Regularization strengths, chosen on TweetEval *val* and on a split of the training
# files only (never on the test sets the benchmark reports).
C_SENTIMENT = 1.0
C_COMPLAINT = 4.0
C_SUGGESTION = 4.0
# Thresholds on the probabilities; 0.5 since class weights already balance the classes.
THRESHOLDS = {"complaint": 0.5, "suggestion": 0.5}
# Distillation: unlabeled customer posts labeled by `best` join the sentiment training set,
# each weighted by DISTILL_WEIGHT x the teacher's confidence (kept when >= DISTILL_MIN_CONF).
DISTILL_WEIGHT = 0.3
DISTILL_MIN_CONF = 0.6


def prepare(texts: Sequence[str]) -> list[str]:
    """Clean and normalize texts exactly as the runtime does."""
    return [normalize(clean(t)) for t in texts]


def counts(texts: Sequence[str], batch: int = 4096) -> sparse.csr_matrix:
    """Count matrix of raw texts, built in batches to bound memory."""
    norm = prepare(texts)
    parts = [count_matrix(norm[i : i + batch]) for i in range(0, len(norm), batch)]
    return sparse.vstack(parts, format="csr") if parts else count_matrix([])


def training_matrix(occurrences: sparse.csr_matrix, idf: npt.NDArray[np.float32]) -> Any:
    """Weighted features with repeats summed (same products, smaller matrix for the solver)."""
    m = weigh(occurrences, idf)
    m.sum_duplicates()
    return m


def fit_idf(matrices: Sequence[sparse.csr_matrix]) -> npt.NDArray[np.float32]:
    """Smoothed idf over all training documents: log((1 + n) / (1 + df)) + 1."""
    df = np.zeros(N_FEATURES, dtype=np.float64)
    n = 0
    for m in matrices:
        df += document_frequency(m)
        n += m.shape[0]
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def balanced(y: Sequence[int]) -> npt.NDArray[np.float64]:
    """Per-row weights n / (k * n_class), as scikit-learn's class_weight="balanced"."""
    arr = np.asarray(y)
    counts_ = np.bincount(arr).astype(np.float64)
    k = int((counts_ > 0).sum())
    return np.asarray(len(arr) / (k * counts_[arr]), dtype=np.float64)


def logreg(
    x: sparse.csr_matrix, y: Sequence[int], c: float, weights: npt.NDArray[np.float64] | None = None
) -> Any:
    """Fit a logistic regression (lbfgs, deterministic): class-balanced, or by row weights."""
    from sklearn.linear_model import LogisticRegression

    balance = "balanced" if weights is None else None
    model = LogisticRegression(C=c, class_weight=balance, max_iter=2000, tol=1e-4)
    model.fit(x, np.asarray(y), sample_weight=weights)
    return model


def default_teacher() -> Path | None:
    """The committed `best` weights directory, when they are there."""
    from earful.triage.models import BEST_DIR, WEIGHTS_DIR

    path = WEIGHTS_DIR / BEST_DIR
    return path if (path / "model.onnx").is_file() else None


def pseudo_labels(
    root: Path, teacher: Path, limit: int | None = None
) -> tuple[list[str], list[int], npt.NDArray[np.float64]]:
    """Unlabeled posts with the teacher's confident sentiment and its confidence."""
    from earful.triage.models import BestScorer, softmax

    texts = data.unlabeled_posts(root, limit)
    scorer = BestScorer(teacher, heads=False)
    probs = softmax(scorer.embed(prepare(texts))[1])
    conf = probs.max(axis=1)
    keep = np.flatnonzero(conf >= DISTILL_MIN_CONF)
    labels = probs.argmax(axis=1)
    return [texts[i] for i in keep], [int(labels[i]) for i in keep], conf[keep].astype(np.float64)


def assemble(
    idf: npt.NDArray[np.float32], sent: Any, comp: Any, sugg: Any, meta: dict[str, Any]
) -> LinearHeads:
    """Pack three fitted sklearn heads into one (N_FEATURES, 5) weight matrix."""
    coef = np.zeros((N_FEATURES, 5), dtype=np.float32)
    bias = np.zeros(5, dtype=np.float32)
    coef[:, :3] = sent.coef_.T
    bias[:3] = sent.intercept_
    coef[:, 3] = comp.coef_[0]
    bias[3] = comp.intercept_[0]
    coef[:, 4] = sugg.coef_[0]
    bias[4] = sugg.intercept_[0]
    return LinearHeads(idf=idf, coef=coef, bias=bias, thresholds=dict(THRESHOLDS), meta=meta)


def train(data_dir: Path, out: Path | None = None, teacher: Path | None = None) -> LinearHeads:
    """Train all heads on the public data and (optionally) write the weights to `out`.

    With `teacher` (a `best` weights directory), the sentiment head also learns from
    unlabeled customer posts labeled by the teacher (distillation).
    """
    tw = data.tweeteval_train(data_dir)
    co = data.complaints(data_dir)
    su = data.suggestions_train(data_dir)
    log.info("featurizing %d + %d + %d texts", len(tw.texts), len(co.texts), len(su.texts))
    x_tw, x_co, x_su = counts(tw.texts), counts(co.texts), counts(su.texts)
    idf = fit_idf([x_tw, x_co, x_su])
    log.info("sentiment head")
    distilled = 0
    if teacher is not None:
        log.info("labeling unlabeled posts with the teacher %s", teacher)
        p_texts, p_labels, p_conf = pseudo_labels(data_dir, teacher)
        distilled = len(p_texts)
        y = list(tw.labels) + p_labels
        w_hard = balanced(tw.labels)
        w_soft = balanced(p_labels) * DISTILL_WEIGHT * p_conf
        x_all = sparse.vstack([x_tw, counts(p_texts)], format="csr")
        sent = logreg(training_matrix(x_all, idf), y, C_SENTIMENT, np.concatenate([w_hard, w_soft]))
    else:
        sent = logreg(training_matrix(x_tw, idf), tw.labels, C_SENTIMENT)
    log.info("complaint head")
    comp = logreg(training_matrix(x_co, idf), co.labels, C_COMPLAINT)
    log.info("suggestion head")
    sugg = logreg(training_matrix(x_su, idf), su.labels, C_SUGGESTION)
    meta = {
        "model": "fast",
        "C": [C_SENTIMENT, C_COMPLAINT, C_SUGGESTION],
        "train_rows": [len(tw.texts), len(co.texts), len(su.texts)],
        "distilled_rows": distilled,
    }
    heads = assemble(idf, sent, comp, sugg, meta)
    if out is not None:
        heads.save(out)
    return heads
