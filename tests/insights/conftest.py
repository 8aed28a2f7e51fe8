"""A small hand-computable world: three customers on two channels, our replies, fixed times.

T0 is 47 hours before NOW (2026-11-02 10:00 UTC):
- "small" (50 followers) writes a1 on X at T0 (negative, topic billing); we answer r1 at
  T0+10 min; they write a2 (positive) at T0+60 min answering r1; we answer r2 at T0+80 min.
- "big" (200,000 followers) writes b1 on X at T0+5 min (neutral); we answer r3 at T0+35 min.
- "mid" (5,000 followers) writes m1 on the forum at T0 (negative, topic billing); nobody answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from earful.channels.services import get_or_create_channel
from earful.conversations.models import Conversation, Message
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
T0 = NOW - timedelta(hours=47)
BRAND = {"external_id": "brand", "handle": "acme"}


def say(
    channel: Any,
    external_id: str,
    at: datetime,
    text: str = "hello",
    *,
    author: str = "",
    audience: int | None = None,
    reply_to: str = "",
    **labels: Any,
) -> Message:
    """Ingest one message (ours when no author is given), then pin its triage labels."""
    fields = (
        {"external_id": author, "handle": author, "audience_size": audience} if author else BRAND
    )
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    external_id,
                    text,
                    created_at=at.isoformat(),
                    direction="in" if author else "out",
                    in_reply_to=reply_to,
                    author=fields,
                )
            ]
        ),
    )
    # The models' labels are probabilistic; the cases pin them so every number is by hand.
    if labels:
        Message.objects.filter(channel=channel, external_id=external_id).update(**labels)
    return Message.objects.get(channel=channel, external_id=external_id)


@dataclass
class World:
    """The channels and conversations of the hand-computed case."""

    x: Any
    forum: Any
    small: Conversation
    big: Conversation
    mid: Conversation


@pytest.fixture
def world(org: Any, channel: Any) -> World:
    forum = get_or_create_channel(org, name="Forum", kind="forum")
    minute = timedelta(minutes=1)
    say(
        channel,
        "a1",
        T0,
        "wrong bill",
        author="small",
        audience=50,
        sentiment="negative",
        topic="billing",
    )
    say(
        forum,
        "m1",
        T0,
        "wrong bill here too",
        author="mid",
        audience=5_000,
        sentiment="negative",
        topic="billing",
    )
    say(
        channel,
        "b1",
        T0 + 5 * minute,
        "where is my parcel",
        author="big",
        audience=200_000,
        sentiment="neutral",
        topic="",
    )
    say(channel, "r1", T0 + 10 * minute, "sorry, fixing it", reply_to="a1")
    say(channel, "r3", T0 + 35 * minute, "on its way", reply_to="b1")
    say(
        channel,
        "a2",
        T0 + 60 * minute,
        "thanks, sorted!",
        author="small",
        audience=50,
        reply_to="r1",
        sentiment="positive",
        topic="",
    )
    say(channel, "r2", T0 + 80 * minute, "glad to hear", reply_to="a2")

    def conversation(external_id: str) -> Conversation:
        return Message.objects.get(external_id=external_id).conversation  # type: ignore[return-value]

    return World(channel, forum, conversation("a1"), conversation("b1"), conversation("m1"))
