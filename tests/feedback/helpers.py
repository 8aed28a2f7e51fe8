"""Builders shared by the feedback tests."""

from __future__ import annotations

from typing import Any

from earful.conversations.models import Message
from earful.feedback.board import Person
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record

ANA = Person("Ana Lima", "ana@example.com")
BEN = Person("Ben Ode", "ben@example.com")
CAL = Person("Cal Diaz", "cal@example.com")


def tweet(channel: Any, external_id: str, text: str, handle: str = "sam") -> Message:
    """A customer's post on X, through the real pipeline (stored, triaged, threaded)."""
    author = {"external_id": f"x-{handle}", "handle": handle, "display_name": handle.title()}
    ingest_batch(channel, numbered([record(external_id, text, author=author)]))
    return Message.objects.select_related("identity__customer", "channel").get(
        channel=channel, external_id=external_id
    )
