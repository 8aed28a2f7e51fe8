"""Fold an organization's label corrections into its own copy of the `fast` model.

A correction is (text, field, value), e.g. ("my parcel never came", "complaint", True).
Retraining does not need the public data: it starts from the base weights and moves them
only as far as the corrections require (an L2 pull back to the base), so a business can
retrain on its own messages alone, in seconds.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize, sparse

from earful.triage.features import count_matrix, weigh
from earful.triage.labels import SENTIMENTS
from earful.triage.models import FastScorer, LinearHeads
from earful.triage.text import clean, normalize
from earful.triage.triager import Triager

Correction = tuple[str, str, object]
# The trainable fields, and how an intent correction implies them (intent order puts
# complaint first, so an agent choosing "question" also says "this is no complaint").
LEARNABLE = ("sentiment", "complaint", "suggestion", "intent", "praise")
_INTENT_IMPLIES: dict[str, dict[str, object]] = {
    "complaint": {"complaint": True},
    "suggestion": {"complaint": False, "suggestion": True},
    "question": {"complaint": False, "suggestion": False},
    "praise": {"complaint": False, "suggestion": False, "sentiment": "positive"},
    "other": {"complaint": False, "suggestion": False},
}
# Prior strength: higher keeps the model closer to the base weights.
L2_TO_BASE = 0.05


@dataclass(frozen=True)
class _Targets:
    rows: list[int]
    values: list[int]


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "t")
    return bool(value)


def expand(corrections: Sequence[Correction]) -> tuple[list[str], dict[str, _Targets], int]:
    """Turn corrections into per-head targets; return (texts, targets, skipped count)."""
    texts: list[str] = []
    index: dict[str, int] = {}
    targets: dict[str, _Targets] = {h: _Targets([], []) for h in SENTIMENT_HEADS}
    skipped = 0
    for text, field, value in corrections:
        implied: dict[str, object]
        if field == "intent" and str(value) in _INTENT_IMPLIES:
            implied = _INTENT_IMPLIES[str(value)]
        elif field == "praise":
            implied = {"sentiment": "positive", "complaint": False} if _as_bool(value) else {}
        elif field in ("sentiment", "complaint", "suggestion"):
            implied = {field: value}
        else:
            implied = {}
        if field == "sentiment" and str(value) not in SENTIMENTS:
            implied = {}
        if not implied:
            skipped += 1
            continue
        key = str(text)
        if key not in index:
            index[key] = len(texts)
            texts.append(key)
        row = index[key]
        for head, v in implied.items():
            y = SENTIMENTS.index(str(v)) if head == "sentiment" else int(_as_bool(v))
            targets[head].rows.append(row)
            targets[head].values.append(y)
    return texts, targets, skipped


SENTIMENT_HEADS = ("sentiment", "complaint", "suggestion")


def _fit_delta(
    x: sparse.csr_matrix,
    w0: npt.NDArray[np.float32],
    b0: npt.NDArray[np.float32],
    y: npt.NDArray[np.int64],
    multiclass: bool,
) -> npt.NDArray[np.float64]:
    """Minimize loss on (x, y) + L2_TO_BASE * |delta|^2 over the columns x uses."""
    cols = np.unique(x.indices)
    xs = x[:, cols].tocsr().astype(np.float64)
    k = w0.shape[1]
    base = np.asarray(x @ w0, dtype=np.float64) + b0

    def loss(flat: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        d = flat.reshape(len(cols), k)
        z = base + xs @ d
        if multiclass:
            z = z - z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            nll = -np.log(p[np.arange(len(y)), y] + 1e-12).sum()
            g = p
            g[np.arange(len(y)), y] -= 1.0
        else:
            zz = z[:, 0]
            nll = float(np.logaddexp(0.0, zz).sum() - (y * zz).sum())
            g = (1.0 / (1.0 + np.exp(-zz)) - y)[:, None]
        grad = np.asarray(xs.T @ g) + 2 * L2_TO_BASE * d
        return float(nll + L2_TO_BASE * (d * d).sum()), grad.ravel()

    res = optimize.minimize(
        loss, np.zeros(len(cols) * k), jac=True, method="L-BFGS-B", options={"maxiter": 500}
    )
    delta = np.zeros((w0.shape[0], k), dtype=np.float64)
    delta[cols] = res.x.reshape(len(cols), k)
    return delta


def train_with_corrections(
    base: str | Path | LinearHeads, corrections: Sequence[Correction]
) -> LinearHeads:
    """Return new `fast` weights: `base` ("fast", a weights path, or heads) + corrections."""
    if isinstance(base, LinearHeads):
        heads = base
    elif isinstance(base, Path) or (isinstance(base, str) and base.endswith(".npz")):
        heads = LinearHeads.load(Path(base))
    elif base == "fast":
        heads = FastScorer.load().heads
    else:
        raise ValueError(f"corrections retrain the fast model; got base {base!r}")
    texts, targets, skipped = expand(corrections)
    coef = heads.coef.copy()
    if texts:
        x = weigh(count_matrix([normalize(clean(t)) for t in texts]), heads.idf)
        x.sum_duplicates()
        spans = {"sentiment": slice(0, 3), "complaint": slice(3, 4), "suggestion": slice(4, 5)}
        for head, tg in targets.items():
            if not tg.rows:
                continue
            span = spans[head]
            delta = _fit_delta(
                x[tg.rows],
                heads.coef[:, span],
                heads.bias[span],
                np.asarray(tg.values, dtype=np.int64),
                head == "sentiment",
            )
            coef[:, span] += delta.astype(np.float32)
    meta: dict[str, Any] = dict(heads.meta)
    meta["corrections"] = int(len(corrections) - skipped)
    meta["corrections_skipped"] = int(skipped)
    return replace(heads, coef=coef, meta=meta)


@functools.lru_cache(maxsize=16)
def _custom(path: str, mtime_ns: int) -> Triager:
    return Triager(FastScorer.load(Path(path)))


def triager_from_weights(path: str | Path) -> Triager:
    """Return a cached `fast` Triager for an organization's own weights file."""
    p = Path(path).resolve()
    return _custom(str(p), p.stat().st_mtime_ns)
