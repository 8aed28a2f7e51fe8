"""`Triager`: model scores + rules -> `Labels`, and `load_triager`, the one entry point."""

from __future__ import annotations

import functools
import logging

import numpy as np

from earful.triage import language, rules
from earful.triage.labels import SENTIMENTS, Labels
from earful.triage.models import BEST_DIR, WEIGHTS_DIR, BestScorer, FastScorer, Scorer
from earful.triage.text import clean, normalize

log = logging.getLogger(__name__)

MODEL_NAMES = ("fast", "best")
BATCH = 512


class Triager:
    """Labels messages with one scorer (`fast` or `best`) plus the transparent rules."""

    def __init__(self, scorer: Scorer) -> None:
        """Wrap a loaded scorer."""
        self.scorer = scorer
        self.name: str = scorer.name

    def label(self, texts: list[str]) -> list[Labels]:
        """Return one `Labels` per text, same order; never raises on odd input."""
        out: list[Labels] = []
        for start in range(0, len(texts), BATCH):
            out.extend(self._label_batch(list(texts[start : start + BATCH])))
        return out

    def _label_batch(self, texts: list[object]) -> list[Labels]:
        cleaned = [clean(t) for t in texts]
        norm = [normalize(t) for t in cleaned]
        langs = language.detect(cleaned)
        sc = self.scorer.scores(norm)
        th = self.scorer.thresholds
        sent_idx = np.asarray(sc.sentiment).argmax(axis=1)
        out: list[Labels] = []
        for i, text in enumerate(norm):
            probs = [round(float(p), 4) for p in sc.sentiment[i]]
            scores: dict[str, float] = dict(zip(SENTIMENTS, probs, strict=True))
            c_score = round(float(sc.complaint[i]), 4)
            s_score = round(float(sc.suggestion[i]), 4)
            is_c = c_score >= th.get("complaint", 0.5)
            is_s = s_score >= th.get("suggestion", 0.5)
            words = rules.words_of(text)
            is_q = rules.is_question(text, words)
            is_p = rules.is_praise(text, scores["positive"], is_c, words)
            out.append(
                Labels(
                    sentiment=SENTIMENTS[int(sent_idx[i])],
                    sentiment_scores=scores,
                    complaint=is_c,
                    complaint_score=c_score,
                    suggestion=is_s,
                    suggestion_score=s_score,
                    question=is_q,
                    praise=is_p,
                    intent=rules.intent(is_c, is_s, is_q, is_p),
                    needs_reply=rules.needs_reply(is_c, is_q, is_s, scores["negative"]),
                    language=langs[i],
                    topic=rules.topic(text, words),
                )
            )
        return out


@functools.lru_cache(maxsize=4)
def _load(name: str) -> Triager:
    if name == "fast":
        return Triager(FastScorer.load())
    return Triager(BestScorer(WEIGHTS_DIR / BEST_DIR))


@functools.lru_cache(maxsize=1)
def _default() -> Triager:
    try:
        return _load("best")
    except Exception as exc:  # missing/corrupt weights or no onnxruntime: degrade, say so
        log.warning("best triage model unavailable (%s); using fast", exc)
        return _load("fast")


def load_triager(model: str | None = None) -> Triager:
    """Return a cached `Triager`: "fast", "best", or None for best-if-loadable-else-fast."""
    if model is None:
        return _default()
    if model not in MODEL_NAMES:
        raise ValueError(f"unknown triage model {model!r}; choose one of: {', '.join(MODEL_NAMES)}")
    return _load(model)
