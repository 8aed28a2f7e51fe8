"""Fold an organization's label corrections into its own copy of the `fast` model.

A correction is (text, field, value), e.g. ("my parcel never came", "complaint", True).
Retraining does not need the public data: it starts from the base weights and moves them
only as far as the corrections require (an L2 pull back to the base), so a business can
retrain on its own messages alone, in seconds.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

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
    targets: dict[str, _Targets] = {h: _Targets([], []) for h in _SPANS}
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


def _fit_delta(
    xs: Any, base: npt.NDArray[np.float64], y: npt.NDArray[np.int64], multiclass: bool
) -> npt.NDArray[np.float64]:
    """Minimize loss(base + xs @ delta, y) + L2_TO_BASE * |delta|^2; return delta."""
    from scipy import optimize

    k = base.shape[1]
    dim = xs.shape[1]

    def loss(flat: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        d = flat.reshape(dim, k)
        z = base + np.asarray(xs @ d)
        if multiclass:
            z = z - z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            nll = float(-np.log(p[np.arange(len(y)), y] + 1e-12).sum())
            g = p
            g[np.arange(len(y)), y] -= 1.0
        else:
            zz = z[:, 0]
            nll = float(np.logaddexp(0.0, zz).sum() - (y * zz).sum())
            g = (1.0 / (1.0 + np.exp(-zz)) - y)[:, None]
        grad = np.asarray(xs.T @ g) + 2 * L2_TO_BASE * d
        return nll + L2_TO_BASE * float((d * d).sum()), grad.ravel()

    res = optimize.minimize(
        loss, np.zeros(dim * k), jac=True, method="L-BFGS-B", options={"maxiter": 500}
    )
    return np.asarray(res.x, dtype=np.float64).reshape(dim, k)


_SPANS = {"sentiment": slice(0, 3), "complaint": slice(3, 4), "suggestion": slice(4, 5)}


@dataclass
class BestAdjustment:
    """An organization's corrections to `best`: a linear delta on the sentence embedding.

    Added to the logits [negative, neutral, positive, complaint, suggestion] at run time.
    """

    delta: npt.NDArray[np.float32]  # (embedding dim, 5)
    meta: dict[str, Any]

    def save(self, path: Path) -> None:
        """Write as npz of plain arrays (kind=best)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            path,
            kind=np.frombuffer(b"best", dtype=np.uint8),
            delta=self.delta.astype(np.float32),
            meta=np.frombuffer(json.dumps(self.meta).encode(), dtype=np.uint8),
        )

    @classmethod
    def load(cls, path: Path) -> BestAdjustment:
        """Read a file written by `save`."""
        with np.load(path, allow_pickle=False) as z:
            return cls(z["delta"].astype(np.float32), json.loads(bytes(z["meta"]).decode()))


def _fast_corrections(heads: LinearHeads, corrections: Sequence[Correction]) -> LinearHeads:
    texts, targets, skipped = expand(corrections)
    coef = heads.coef.copy()
    if texts:
        x = weigh(count_matrix([normalize(clean(t)) for t in texts]), heads.idf)
        x.sum_duplicates()
        for head, tg in targets.items():
            if not tg.rows:
                continue
            span = _SPANS[head]
            rows = x[tg.rows]
            # Only the columns the corrected texts use can move; the rest stay at base.
            cols = np.unique(rows.indices)
            base = np.asarray(rows @ heads.coef[:, span], dtype=np.float64) + heads.bias[span]
            y = np.asarray(tg.values, dtype=np.int64)
            delta = _fit_delta(rows[:, cols].tocsr(), base, y, head == "sentiment")
            coef[cols, span] += delta.astype(np.float32)
    meta: dict[str, Any] = dict(heads.meta)
    meta["corrections"] = int(len(corrections) - skipped)
    meta["corrections_skipped"] = int(skipped)
    return replace(heads, coef=coef, meta=meta)


def _best_corrections(
    start: BestAdjustment | None, corrections: Sequence[Correction]
) -> BestAdjustment:
    from earful.triage.models import BEST_DIR, WEIGHTS_DIR, BestScorer

    scorer = BestScorer(WEIGHTS_DIR / BEST_DIR)
    texts, targets, skipped = expand(corrections)
    dim = 384
    delta = np.zeros((dim, 5), dtype=np.float32) if start is None else start.delta.copy()
    if texts:
        logits, emb = scorer.logits([normalize(clean(t)) for t in texts])
        dim = emb.shape[1]
        if delta.shape[0] != dim:
            delta = np.zeros((dim, 5), dtype=np.float32)
        logits = logits + emb @ delta
        for head, tg in targets.items():
            if not tg.rows:
                continue
            span = _SPANS[head]
            rows = emb[tg.rows].astype(np.float64)
            base = logits[tg.rows][:, span].astype(np.float64)
            y = np.asarray(tg.values, dtype=np.int64)
            delta[:, span] += _fit_delta(rows, base, y, head == "sentiment").astype(np.float32)
    prev = 0 if start is None else int(start.meta.get("corrections", 0))
    meta = {
        "model": "best",
        "corrections": prev + len(corrections) - skipped,
        "corrections_skipped": int(skipped),
    }
    return BestAdjustment(delta, meta)


def train_with_corrections(
    base: str | Path | LinearHeads, corrections: Sequence[Correction]
) -> LinearHeads | BestAdjustment:
    """Return new weights: `base` + an organization's corrections; `.save(path)` them.

    `base` is "fast" or "best" (the committed models), a weights file written by an
    earlier call (corrections accumulate), or loaded fast heads.
    """
    if isinstance(base, LinearHeads):
        return _fast_corrections(base, corrections)
    if base == "fast":
        return _fast_corrections(FastScorer.load().heads, corrections)
    if base == "best":
        return _best_corrections(None, corrections)
    path = Path(base)
    if not path.is_file():
        raise ValueError(f"base must be 'fast', 'best' or a weights file; got {base!r}")
    if _kind(path) == "best":
        return _best_corrections(BestAdjustment.load(path), corrections)
    return _fast_corrections(LinearHeads.load(path), corrections)


def _kind(path: Path) -> str:
    with np.load(path, allow_pickle=False) as z:
        return bytes(z["kind"]).decode() if "kind" in z.files else "fast"


@functools.lru_cache(maxsize=16)
def _custom(path: str, mtime_ns: int) -> Triager:
    from earful.triage.models import BEST_DIR, WEIGHTS_DIR, BestScorer

    if _kind(Path(path)) == "best":
        adj = BestAdjustment.load(Path(path))
        return Triager(BestScorer(WEIGHTS_DIR / BEST_DIR, delta=adj.delta))
    return Triager(FastScorer.load(Path(path)))


def triager_from_weights(path: str | Path) -> Triager:
    """Return a cached Triager for an organization's own weights file (fast or best)."""
    p = Path(path).resolve()
    return _custom(str(p), p.stat().st_mtime_ns)
