"""Which existing ideas say the same as a text: sentence embeddings blended with word overlap.

The encoder is the committed `best` triage model (`BestScorer.embed`); idea embeddings are
stored with the idea (float32 bytes), so a lookup embeds only the query. That encoder was
tuned to tell suggestions and sentiment apart, so its vectors share a few strong directions
(every idea "is a suggestion"); before comparing, the common mean and the top directions of
a public corpus of customer texts are removed ("all-but-the-top", Mu & Viswanath, ICLR
2018), stored in `weights/common_directions.npz`. The lexical half is a TF-IDF cosine over
words and word pairs, computed over the candidates at lookup time. The blend weight, the
number of directions and the floors were chosen with `earful bench ideas` (docs/feedback.md).
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
from pathlib import Path

import numpy as np
import numpy.typing as npt

from earful.triage.models import BestScorer
from earful.triage.text import clean, normalize
from earful.triage.triager import load_triager

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
DIRECTIONS_FILE = Path(__file__).parent / "weights" / "common_directions.npz"
# Weight of the embedding cosine in the blend; the rest is lexical (chosen on banking77 train).
EMBEDDING_WEIGHT = 0.65
# Below these scores an idea is not offered as similar on the board: nine in ten suggestions
# about another product (SemEval-2019 forum posts) score under them against a banking board.
MIN_BLENDED = 0.2
MIN_LEXICAL = 0.1
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


@functools.lru_cache(maxsize=1)
def common_directions() -> tuple[FloatArray, FloatArray] | None:
    """(mean, top directions) removed before comparing, or None when the file is missing."""
    if not DIRECTIONS_FILE.is_file():
        return None
    with np.load(DIRECTIONS_FILE, allow_pickle=False) as z:
        return z["mean"].astype(np.float32), z["directions"].astype(np.float32)


def sharpen(vectors: FloatArray) -> FloatArray:
    """Rows without the common mean and top directions, unit length again."""
    found = common_directions()
    if found is None or vectors.shape[1] != found[0].shape[0]:
        return vectors
    mean, directions = found
    centered = vectors - mean
    centered -= (centered @ directions.T) @ directions
    norms = np.linalg.norm(centered, axis=1, keepdims=True)
    out: FloatArray = (centered / np.maximum(norms, 1e-9)).astype(np.float32)
    return out


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


def blend(dense: FloatArray, lexical: FloatArray, weight: float) -> FloatArray:
    """The blended similarity: `weight` of the embedding cosine, the rest word overlap."""
    out: FloatArray = (weight * dense + (1.0 - weight) * lexical).astype(np.float32)
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
    likely_only: bool = False,
) -> list[Scored]:
    """The closest documents to the query, best first: blended embedding and word scores.

    With `likely_only`, documents under the floor of the scoring used are left out.
    """
    if not documents:
        return []
    lexical = lexical_scores(query, documents)
    dense = np.zeros(len(documents), dtype=np.float32)
    use_dense = query_vector is not None and weight > 0
    if query_vector is not None and use_dense:
        width = query_vector.shape
        rows = [(i, v) for i, v in enumerate(vectors) if v is not None and v.shape == width]
        if rows:
            matrix = sharpen(np.stack([v for _, v in rows]))
            dense[[i for i, _ in rows]] = matrix @ sharpen(query_vector[None, :])[0]
    blended = blend(dense, lexical, weight if use_dense else 0.0)
    order = np.argsort(-blended, kind="stable")[:limit]
    floor = (MIN_BLENDED if use_dense else MIN_LEXICAL) if likely_only else -1.0
    return [Scored(int(i), float(blended[i])) for i in order if blended[i] >= floor]
