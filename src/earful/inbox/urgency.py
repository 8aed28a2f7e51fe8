"""Routing urgency: the triage formula (earful.triage.urgency) fed from what is stored.

A message gets its urgency when it arrives (mood, complaint score, its author's audience).
A conversation's urgency is what the inbox sorts by: the most urgent of the messages the
customer is still waiting on an answer to, raised by how fast they are piling up (in the
last hour) and by how long the customer has waited. It is recomputed when messages arrive
and, as waiting grows, by the inbox tick; a conversation nobody waits on has urgency 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import F, Q

from earful.conversations.models import Conversation, Direction, Message, Status
from earful.org.models import Organization
from earful.triage import urgency

# A thread's growth counts the customer's waiting messages of the last hour.
GROWTH_WINDOW = timedelta(hours=1)
# The tick recomputes a waiting conversation whose urgency is older than this...
REFRESH_AFTER = timedelta(minutes=5)
# ...at most this many per organization and tick, the stalest first.
REFRESH_BATCH = 1000


def message_urgency(message: Message, audience: int | None) -> float:
    """A new message's urgency from its labels and its author's audience (nobody waited yet)."""
    scores = message.sentiment_scores or {}
    return urgency(
        float(scores.get("negative", 0.0) or 0.0),
        float(message.complaint_score or 0.0),
        float(audience or 0),
    )


def refresh_urgency(conversation_ids: Iterable[int], now: datetime) -> int:
    """Recompute the urgency of these conversations; returns how many were written."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return 0
    conversations = list(
        Conversation.objects.filter(pk__in=ids).only("pk", "waiting_since", "urgency")
    )
    waiting = [c.pk for c in conversations if c.waiting_since is not None]
    # The messages each customer still waits on, most urgent first.
    rows = (
        Message.objects.filter(
            conversation_id__in=waiting,
            direction=Direction.IN,
            created_at__gte=F("conversation__waiting_since"),
        )
        .order_by("conversation_id", F("urgency").desc(nulls_last=True), "-created_at")
        .values_list(
            "conversation_id",
            "sentiment_scores",
            "complaint_score",
            "identity__audience_size",
            "created_at",
        )
    )
    worst: dict[int, tuple[float, float, float]] = {}
    recent: dict[int, int] = {}
    for conversation_id, scores, complaint_score, followers, created_at in rows:
        if conversation_id not in worst:
            negativity = float((scores or {}).get("negative", 0.0) or 0.0)
            worst[conversation_id] = (
                negativity,
                float(complaint_score or 0.0),
                float(followers or 0),
            )
        if created_at >= now - GROWTH_WINDOW:
            recent[conversation_id] = recent.get(conversation_id, 0) + 1
    for conversation in conversations:
        since = conversation.waiting_since
        if since is None or conversation.pk not in worst:
            conversation.urgency = 0.0
        else:
            negative, complaint, audience = worst[conversation.pk]
            conversation.urgency = urgency(
                negative,
                complaint,
                audience,
                thread_rate=recent.get(conversation.pk, 0) / (GROWTH_WINDOW.total_seconds() / 3600),
                waited_seconds=max(0.0, (now - since).total_seconds()),
            )
        conversation.urgency_at = now
    Conversation.objects.bulk_update(conversations, ["urgency", "urgency_at"])
    return len(conversations)


def refresh_waiting(organization: Organization, now: datetime) -> int:
    """Age the urgency of the organization's waiting conversations, and zero it where the
    customer no longer waits (the stalest first)."""
    stale = (
        Conversation.objects.filter(organization=organization)
        .filter(Q(waiting_since__isnull=False) | Q(urgency__gt=0))
        .exclude(status=Status.MERGED)
        .filter(Q(urgency_at__isnull=True) | Q(urgency_at__lt=now - REFRESH_AFTER))
        .order_by(F("urgency_at").asc(nulls_first=True))
        .values_list("pk", flat=True)[:REFRESH_BATCH]
    )
    return refresh_urgency(list(stale), now)
