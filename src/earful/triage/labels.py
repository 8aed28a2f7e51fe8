"""The labels every message gets: the `earful triage` contract, as a frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Sentiment = Literal["negative", "neutral", "positive"]
Intent = Literal["complaint", "question", "suggestion", "praise", "other"]

SENTIMENTS: tuple[Sentiment, ...] = ("negative", "neutral", "positive")
INTENTS: tuple[Intent, ...] = ("complaint", "question", "suggestion", "praise", "other")


@dataclass(frozen=True, slots=True)
class Labels:
    """Triage labels of one message; `to_dict()` gives the JSON contract fields."""

    sentiment: Sentiment
    sentiment_scores: dict[str, float]
    complaint: bool
    complaint_score: float
    suggestion: bool
    suggestion_score: float
    question: bool
    praise: bool
    intent: Intent
    needs_reply: bool
    language: str
    topic: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return the labels as a JSON-ready dict (a fresh copy, safe to mutate)."""
        return {
            "sentiment": self.sentiment,
            "sentiment_scores": dict(self.sentiment_scores),
            "complaint": self.complaint,
            "complaint_score": self.complaint_score,
            "suggestion": self.suggestion,
            "suggestion_score": self.suggestion_score,
            "question": self.question,
            "praise": self.praise,
            "intent": self.intent,
            "needs_reply": self.needs_reply,
            "language": self.language,
            "topic": self.topic,
        }
