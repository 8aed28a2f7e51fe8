"""The processing stages ingest runs on newly stored messages, in order."""

from __future__ import annotations

from collections.abc import Sequence

from earful.conversations.models import Direction, Message
from earful.triage import Triager


def triage_stage(messages: Sequence[Message], triager: Triager) -> None:
    """Label what customers wrote (our own replies are not triaged); sets fields in memory."""
    inbound = [m for m in messages if m.direction == Direction.IN]
    if not inbound:
        return
    for message, labels in zip(inbound, triager.label([m.text for m in inbound]), strict=True):
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
        message.triage_model = triager.name
