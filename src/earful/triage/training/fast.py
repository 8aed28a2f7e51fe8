"""Train the `fast` model: hashed n-gram features + logistic-regression heads."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from earful.triage.features import N_FEATURES, count_matrix, weigh
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


def prepare(texts: Sequence[str]) -> list[str]:
    """Clean and normalize texts exactly as the runtime does."""
    return [normalize(clean(t)) for t in texts]


def counts(texts: Sequence[str], batch: int = 4096) -> sparse.csr_matrix:
    """Count matrix of raw texts, built in batches to bound memory."""
    norm = prepare(texts)
    parts = [count_matrix(norm[i : i + batch]) for i in range(0, len(norm), batch)]
    return sparse.vstack(parts, format="csr") if parts else count_matrix([])


def fit_idf(matrices: Sequence[sparse.csr_matrix]) -> npt.NDArray[np.float32]:
    """Smoothed idf over all training documents: log((1 + n) / (1 + df)) + 1."""
    df = np.zeros(N_FEATURES, dtype=np.float64)
    n = 0
    for m in matrices:
        df += np.bincount(m.indices, minlength=N_FEATURES)
        n += m.shape[0]
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def logreg(
    x: sparse.csr_matrix, y: Sequence[int], c: float, weights: npt.NDArray[np.float64] | None = None
) -> Any:
    """Fit a class-balanced logistic regression (lbfgs, deterministic)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, tol=1e-4)
    model.fit(x, np.asarray(y), sample_weight=weights)
    return model


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


def train(data_dir: Path, out: Path | None = None) -> LinearHeads:
    """Train all heads on the public data and (optionally) write the weights to `out`."""
    tw = data.tweeteval_train(data_dir)
    co = data.complaints(data_dir)
    su = data.suggestions_train(data_dir)
    log.info("featurizing %d + %d + %d texts", len(tw.texts), len(co.texts), len(su.texts))
    x_tw, x_co, x_su = counts(tw.texts), counts(co.texts), counts(su.texts)
    idf = fit_idf([x_tw, x_co, x_su])
    log.info("sentiment head")
    sent = logreg(weigh(x_tw, idf), tw.labels, C_SENTIMENT)
    log.info("complaint head")
    comp = logreg(weigh(x_co, idf), co.labels, C_COMPLAINT)
    log.info("suggestion head")
    sugg = logreg(weigh(x_su, idf), su.labels, C_SUGGESTION)
    meta = {
        "model": "fast",
        "C": [C_SENTIMENT, C_COMPLAINT, C_SUGGESTION],
        "train_rows": [len(tw.texts), len(co.texts), len(su.texts)],
    }
    heads = assemble(idf, sent, comp, sugg, meta)
    if out is not None:
        heads.save(out)
    return heads
