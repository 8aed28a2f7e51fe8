"""Pure pieces of the processing stages: what a triage result sets on a message."""

from __future__ import annotations

from earful.conversations.models import Message
from earful.triage import Labels


def apply_labels(message: Message, labels: Labels, *, model: str) -> None:
    """Copy a triage result onto a message (in memory)."""
    message.sentiment = labels.sentiment
    message.sentiment_scores = dict(labels.sentiment_scores)
    message.complaint = labels.complaint
    message.complaint_score = labels.complaint_score
    message.question = labels.question
    message.suggestion = labels.suggestion
    message.suggestion_score = labels.suggestion_score
    message.praise = labels.praise
    message.intent = labels.intent
    message.needs_reply = labels.needs_reply
    message.language = labels.language
    message.topic = labels.topic or ""
    message.triage_model = model
