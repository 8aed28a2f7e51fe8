"""Which existing ideas say the same as a text: sentence embeddings blended with word overlap.

The encoder is the committed `best` triage model (`BestScorer.embed`); idea embeddings are
stored with the idea (float32 bytes), so a lookup embeds only the query. The lexical half
is a TF-IDF cosine over words and word pairs, computed over the candidates at lookup time.
The blend weight was chosen with `earful bench ideas` (docs/feedback.md).
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from earful.triage.models import BestScorer
from earful.triage.text import clean, normalize
from earful.triage.triager import load_triager

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
# Weight of the embedding cosine in the blend; the rest is lexical (chosen on banking77 train).
EMBEDDING_WEIGHT = 0.5
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be but by can do does for from has have how i if in is it its me my "
    "of on or our so that the their there this to was we what when where which why will with "
    "would you your please could should".split()
)


@functools.lru_cache(maxsize=1)
def encoder() -> BestScorer | None:
    """The committed best encoder, or None where its weights or runtime are missing."""
    try:
        scorer = load_triager("best").scorer
    except Exception as exc:  # no onnxruntime or no weights: lexical similarity still works
        log.warning("idea embeddings unavailable (%s); similarity is lexical only", exc)
        return None
    return scorer if isinstance(scorer, BestScorer) else None


def embed(texts: Sequence[str]) -> FloatArray | None:
    """Unit-length embeddings of the texts, one row each, or None without the encoder."""
    model = encoder()
    if model is None or not texts:
        return None
    vectors, _ = model.embed([normalize(clean(t)) for t in texts])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: FloatArray = (vectors / np.maximum(norms, 1e-9)).astype(np.float32)
    return unit


def to_bytes(vector: FloatArray | None) -> bytes:
    """A vector as stored on the idea."""
    return b"" if vector is None else np.asarray(vector, dtype=np.float32).tobytes()


def vector_bytes(text: str) -> bytes:
    """The text's embedding as stored on an idea (empty without the encoder)."""
    vectors = embed([text])
    return to_bytes(None if vectors is None else vectors[0])


def from_bytes(data: bytes | memoryview) -> FloatArray | None:
    """A stored vector, or None when none was stored."""
    raw = bytes(data)
    return np.frombuffer(raw, dtype=np.float32) if raw else None


def terms(text: str) -> list[str]:
    """Content words and adjacent word pairs of a text, lower case."""
    words = [w for w in _WORD.findall(normalize(clean(text))) if w not in _STOP]
    stems = [w[:6] for w in words]  # a crude stem: "refunds", "refunded" and "refund" meet
    return stems + [f"{a} {b}" for a, b in itertools.pairwise(stems)]


def lexical_scores(query: str, documents: Sequence[str]) -> FloatArray:
    """TF-IDF cosine of the query against each document, IDF taken over the documents."""
    bags = [Counter(terms(d)) for d in documents]
    frequency: Counter[str] = Counter()
    for bag in bags:
        frequency.update(bag.keys())
    n = len(documents) + 1

    def weigh(bag: Counter[str]) -> dict[str, float]:
        return {t: c * math.log(n / (1 + frequency[t])) + c for t, c in bag.items()}

    q = weigh(Counter(terms(query)))
    q_norm = math.sqrt(sum(v * v for v in q.values())) or 1.0
    out = np.zeros(len(documents), dtype=np.float32)
    for i, bag in enumerate(bags):
        d = weigh(bag)
        dot = sum(v * d.get(t, 0.0) for t, v in q.items())
        if dot:
            out[i] = dot / (q_norm * (math.sqrt(sum(v * v for v in d.values())) or 1.0))
    return out


@dataclass(frozen=True)
class Scored:
    """One candidate's position in the input and its similarity (0..1, higher is closer)."""

    index: int
    score: float


def rank(
    query: str,
    documents: Sequence[str],
    vectors: Sequence[FloatArray | None],
    *,
    query_vector: FloatArray | None = None,
    weight: float = EMBEDDING_WEIGHT,
    limit: int = 5,
) -> list[Scored]:
    """The closest documents to the query, best first: blended embedding and word scores."""
    if not documents:
        return []
    lexical = lexical_scores(query, documents)
    dense = np.zeros(len(documents), dtype=np.float32)
    use_dense = query_vector is not None and weight > 0
    if use_dense:
        assert query_vector is not None
        for i, vector in enumerate(vectors):
            if vector is not None and vector.shape == query_vector.shape:
                dense[i] = float(vector @ query_vector)
    blended = weight * dense + (1 - weight) * lexical if use_dense else lexical
    order = np.argsort(-blended, kind="stable")[:limit]
    return [Scored(int(i), float(blended[i])) for i in order]
