"""Threading: link replies to what they answer and group linked messages into conversations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import F, OuterRef, Subquery

from earful.conversations.models import Conversation, Direction, Message, Origin, Status
from earful.org.models import Organization

SUBJECT_CHARS = 120
# A new message is known by (channel id, external id), a stored one by its primary key.
Key = tuple[int, str] | int


def allocate_conversation_numbers(organization: Organization, count: int) -> range:
    """Reserve `count` consecutive conversation numbers of the organization (in a transaction)."""
    Organization.objects.filter(pk=organization.pk).update(
        conversation_counter=F("conversation_counter") + count
    )
    end = Organization.objects.values_list("conversation_counter", flat=True).get(
        pk=organization.pk
    )
    return range(end - count + 1, end + 1)


def store_threaded(organization: Organization, messages: Sequence[Message]) -> set[int]:
    """Store new messages in conversations, linked to what they answer and to what answers them.

    Messages may arrive before what they answer (imports are not in time order), so a
    new message also adopts stored orphans that answer it. Linked messages share one
    conversation; when a link joins two conversations the younger is merged into the older.
    Returns the ids of the conversations whose messages changed.
    """
    if not messages:
        return set()
    # Union-find over the new messages and the stored neighbours they link to.
    root_of: dict[Key, Key] = {}

    def find(key: Key) -> Key:
        while root_of.setdefault(key, key) != key:
            root_of[key] = root_of[root_of[key]]
            key = root_of[key]
        return key

    def union(a: Key, b: Key) -> None:
        root_of[find(a)] = find(b)

    new = {(m.channel_id, m.external_id): m for m in messages}
    stored_conversation: dict[Key, int] = {}
    adopted: list[int] = []
    for channel_id in {m.channel_id for m in messages}:
        ids = [external_id for (channel, external_id) in new if channel == channel_id]
        wanted = {new[(channel_id, e)].in_reply_to_external_id for e in ids} - set(ids) - {""}
        stored = Message.objects.filter(channel_id=channel_id, external_id__in=wanted)
        for pk, conversation_id in stored.values_list("pk", "conversation_id"):
            stored_conversation[pk] = conversation_id
        stored_pk = dict(stored.values_list("external_id", "pk"))
        for external_id in ids:
            reply_to = new[(channel_id, external_id)].in_reply_to_external_id
            if reply_to == external_id or not reply_to:
                continue
            if (channel_id, reply_to) in new:
                union((channel_id, external_id), (channel_id, reply_to))
            elif reply_to in stored_pk:
                union((channel_id, external_id), stored_pk[reply_to])
        orphans = Message.objects.filter(
            channel_id=channel_id, parent__isnull=True, in_reply_to_external_id__in=ids
        ).values_list("pk", "conversation_id", "in_reply_to_external_id")
        for pk, conversation_id, reply_to in orphans:
            adopted.append(pk)
            union(pk, (channel_id, reply_to))
            stored_conversation[pk] = conversation_id

    groups: dict[Key, list[Message]] = defaultdict(list)
    for key, message in new.items():
        groups[find(key)].append(message)
    existing_by_root: dict[Key, set[int]] = defaultdict(set)
    for stored_key, conversation_id in stored_conversation.items():
        if conversation_id is not None:
            existing_by_root[find(stored_key)].add(conversation_id)

    fresh_roots = [root for root in groups if root not in existing_by_root]
    numbers = iter(allocate_conversation_numbers(organization, len(fresh_roots)))
    created = Conversation.objects.bulk_create(
        _new_conversation(organization, next(numbers), groups[root]) for root in fresh_roots
    )
    chosen: dict[Key, int] = dict(zip(fresh_roots, (c.pk for c in created), strict=True))
    merges: dict[int, int] = {}
    for root, conversation_ids in existing_by_root.items():
        keep = min(conversation_ids)
        chosen[root] = keep
        merges.update((other, keep) for other in conversation_ids - {keep})

    for root, members in groups.items():
        for message in members:
            message.conversation_id = chosen[root]
    Message.objects.bulk_create(messages)
    _link_parents([m.pk for m in messages if m.in_reply_to_external_id] + adopted)
    for merged, keep in merges.items():
        Message.objects.filter(conversation_id=merged).update(conversation_id=keep)
        Conversation.objects.filter(pk=merged).update(status=Status.MERGED, merged_into_id=keep)
    touched = set(chosen.values())
    refresh_conversations(touched)
    return touched


def _link_parents(message_ids: list[int]) -> None:
    """Point each message at the stored message it answers, in one statement."""
    if not message_ids:
        return
    parent = Message.objects.filter(
        channel_id=OuterRef("channel_id"), external_id=OuterRef("in_reply_to_external_id")
    ).exclude(pk=OuterRef("pk"))
    Message.objects.filter(pk__in=message_ids, parent__isnull=True).update(
        parent=Subquery(parent.values("pk")[:1])
    )


def _new_conversation(
    organization: Organization, number: int, members: list[Message]
) -> Conversation:
    first = min(members, key=lambda m: m.created_at)
    return Conversation(
        organization=organization,
        number=number,
        subject=" ".join(first.text.split())[:SUBJECT_CHARS],
        origin=Origin.INBOUND if first.direction == Direction.IN else Origin.PROACTIVE,
        started_at=first.created_at,
        last_message_at=first.created_at,
    )


def refresh_conversations(conversation_ids: set[int]) -> None:
    """Recompute each conversation's timeline fields, customer and channels from its messages."""
    if not conversation_ids:
        return
    timelines: dict[int, list[tuple[datetime, str, int | None, int]]] = defaultdict(list)
    rows = Message.objects.filter(conversation_id__in=conversation_ids).values_list(
        "conversation_id", "created_at", "direction", "identity__customer_id", "channel_id"
    )
    for conversation_id, created_at, direction, customer_id, channel_id in rows:
        timelines[conversation_id].append((created_at, direction, customer_id, channel_id))
    conversations = Conversation.objects.filter(pk__in=timelines)
    links: list[Any] = []
    for conversation in conversations:
        timeline = sorted(timelines[conversation.pk], key=lambda row: row[0])
        before = _timeline_fields(conversation)
        _apply_timeline(conversation, timeline)
        after = _timeline_fields(conversation)
        if after != before:
            # One UPDATE per changed row: bulk_update's CASE expressions cost more in Python.
            Conversation.objects.filter(pk=conversation.pk).update(**after)
        links.extend(
            Conversation.channels.through(conversation_id=conversation.pk, channel_id=channel_id)
            for channel_id in {row[3] for row in timeline}
        )
    Conversation.channels.through.objects.bulk_create(links, ignore_conflicts=True)


_TIMELINE_FIELDS = (
    "started_at",
    "last_message_at",
    "waiting_since",
    "first_response_at",
    "customer_id",
    "status",
)


def _timeline_fields(conversation: Conversation) -> dict[str, Any]:
    return {name: getattr(conversation, name) for name in _TIMELINE_FIELDS}


def _apply_timeline(
    conversation: Conversation, timeline: list[tuple[datetime, str, int | None, int]]
) -> None:
    conversation.started_at = timeline[0][0]
    conversation.last_message_at = timeline[-1][0]
    first_in = next((row for row in timeline if row[1] == Direction.IN), None)
    if conversation.customer_id is None and first_in is not None:
        conversation.customer_id = first_in[2]
    conversation.first_response_at = None
    if first_in is not None:
        conversation.first_response_at = next(
            (row[0] for row in timeline if row[1] == Direction.OUT and row[0] >= first_in[0]),
            None,
        )
    # The customer waits from their first message after our last reply.
    waiting_since = None
    for created_at, direction, _, _ in timeline:
        if direction == Direction.OUT:
            waiting_since = None
        elif waiting_since is None:
            waiting_since = created_at
    conversation.waiting_since = waiting_since
    if conversation.status == Status.MERGED:
        return
    if waiting_since is not None:
        conversation.status = Status.OPEN
    elif conversation.status == Status.OPEN:
        conversation.status = Status.PENDING
