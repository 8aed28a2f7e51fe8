"""Batched language identification on py3langid's model (97 languages, ISO 639-1 codes).

py3langid walks its byte automaton one text at a time in Python (about 10,000 texts/s).
Here the same automaton steps through all texts of a batch together with numpy, giving
the same scores several times faster, which the `fast` model's budget needs.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

UNDETERMINED = "und"
# Language is decided by the opening of a message; more bytes add time, not accuracy.
MAX_BYTES = 200
# Below this probability (or with too few letters) the answer is "und" rather than a guess.
MIN_CONFIDENCE = 0.5
_LETTERS = re.compile(r"[^\W\d_](?:.*?[^\W\d_]){2}", re.DOTALL)  # at least three letters


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[Any, Any, Any, Any]:
    """The automaton and the score table as numpy arrays, converted once per process."""
    ident = _identifier()
    return (
        np.asarray(ident.tk_nextmove, dtype=np.int64),
        np.asarray(ident._rowbase, dtype=np.int64),
        np.asarray(ident.tk_output, dtype=np.int64),
        # float32 once (57 MB) rather than widening the float16 rows on every batch.
        np.asarray(ident.nb_ptc, dtype=np.float32),
    )


def _encode(text: str) -> bytes:
    if text.isupper():  # as py3langid does: all-caps text scores like lower case
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf-8", "replace")[:MAX_BYTES]


def detect(texts: Sequence[str]) -> list[str]:
    """Return an ISO 639-1 code (or "und") for each text, in order."""
    # Similar lengths together: the automaton steps as many times as the longest text.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = [UNDETERMINED] * len(texts)
    for start in range(0, len(order), 128):
        idx = order[start : start + 128]
        for i, lang in zip(idx, _detect([texts[i] for i in idx]), strict=True):
            out[i] = lang
    return out


def _detect(texts: Sequence[str]) -> list[str]:
    ident = _identifier()
    n = len(texts)
    out = [UNDETERMINED] * n
    idx = [i for i, t in enumerate(texts) if _LETTERS.search(t, 0, 400)]
    if not idx:
        return out
    # Longest first: at byte column c the texts still being read are a prefix of the rows.
    idx.sort(key=lambda i: -len(texts[i]))
    encoded = [_encode(texts[i]) for i in idx]
    order = sorted(range(len(encoded)), key=lambda r: -len(encoded[r]))
    idx = [idx[r] for r in order]
    encoded = [encoded[r] for r in order]
    lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    width = int(lengths[0])
    mat = np.zeros((len(encoded), width), dtype=np.int64)
    for r, e in enumerate(encoded):
        mat[r, : len(e)] = np.frombuffer(e, dtype=np.uint8)
    live = len(encoded) - np.searchsorted(lengths[::-1], np.arange(width), side="right")
    nextmove, rowbase, output, nb_ptc = _tables()
    state = np.zeros(len(encoded), dtype=np.int64)
    rows: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    feats: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    for col in range(width):
        m = int(live[col])
        st = nextmove[rowbase[state[:m]] + mat[:m, col]]
        state[:m] = st
        f = output[st]
        hit = (f >= 0).nonzero()[0]
        rows.append(hit)
        feats.append(f[hit])
    hit_rows = np.concatenate(rows)
    hit_feats = np.concatenate(feats)
    counts = sparse.csr_matrix(
        (np.ones(len(hit_rows), dtype=np.float32), (hit_rows, hit_feats)),
        shape=(len(encoded), nb_ptc.shape[0]),
    )
    counts.sum_duplicates()
    counts.data = np.log1p(counts.data)
    scores = np.asarray(counts @ nb_ptc, dtype=np.float64) + ident.nb_pc
    has_feat = np.diff(counts.indptr) > 0
    scores[~has_feat] = 0.0
    scores *= (1.0 / np.sqrt(np.maximum(lengths, 1)))[:, None]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    for i, j in ident._alias_pairs:  # script aliases (srl -> sr) fold into one label
        scores[:, i] += scores[:, j]
        scores[:, j] = 0.0
    best = scores.argmax(axis=1)
    classes = ident.nb_classes
    for k, i in enumerate(idx):
        conf = float(scores[k, best[k]])
        if has_feat[k] and conf >= MIN_CONFIDENCE and not math.isnan(conf):
            out[i] = str(classes[best[k]])
    return out
