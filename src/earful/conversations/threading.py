"""Threading: link replies to what they answer and group linked messages into conversations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import F

from earful.conversations.models import Conversation, Direction, Message, Origin, Status
from earful.org.models import Organization

SUBJECT_CHARS = 120


def allocate_conversation_numbers(organization: Organization, count: int) -> range:
    """Reserve `count` consecutive conversation numbers of the organization (in a transaction)."""
    Organization.objects.filter(pk=organization.pk).update(
        conversation_counter=F("conversation_counter") + count
    )
    end = Organization.objects.values_list("conversation_counter", flat=True).get(
        pk=organization.pk
    )
    return range(end - count + 1, end + 1)


def thread_messages(organization: Organization, messages: Sequence[Message]) -> set[int]:
    """Link the new messages to their parents and children and put each in a conversation.

    Messages may arrive before what they answer (imports are not in time order), so a
    new message also adopts earlier orphans that answer it. Linked messages share one
    conversation; when a link joins two conversations the younger is merged into the older.
    Returns the ids of the conversations whose messages changed.
    """
    if not messages:
        return set()
    by_channel: dict[int, dict[str, Message]] = defaultdict(dict)
    for message in messages:
        by_channel[message.channel_id][message.external_id] = message

    # Union-find over the new messages and the stored neighbours they link to.
    parent_of: dict[int, int] = {}

    def find(key: int) -> int:
        while parent_of.setdefault(key, key) != key:
            parent_of[key] = parent_of[parent_of[key]]
            key = parent_of[key]
        return key

    def union(a: int, b: int) -> None:
        parent_of[find(a)] = find(b)

    stored_conversation: dict[int, int] = {}
    adopted: list[Message] = []
    for channel_id, new in by_channel.items():
        wanted = {m.in_reply_to_external_id for m in new.values()} - set(new) - {""}
        stored_parents = {
            m.external_id: m
            for m in Message.objects.filter(channel_id=channel_id, external_id__in=wanted)
        }
        for message in new.values():
            parent = new.get(message.in_reply_to_external_id) or stored_parents.get(
                message.in_reply_to_external_id
            )
            if parent is None:
                continue
            message.parent = parent
            union(message.pk, parent.pk)
            if parent.conversation_id is not None:
                stored_conversation[parent.pk] = parent.conversation_id
        orphans = Message.objects.filter(
            channel_id=channel_id, parent__isnull=True, in_reply_to_external_id__in=list(new)
        ).exclude(pk__in=[m.pk for m in new.values()])
        for orphan in orphans:
            orphan.parent = new[orphan.in_reply_to_external_id]
            adopted.append(orphan)
            union(orphan.pk, orphan.parent.pk)
            if orphan.conversation_id is not None:
                stored_conversation[orphan.pk] = orphan.conversation_id

    groups: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        groups[find(message.pk)].append(message)
    existing_by_root: dict[int, set[int]] = defaultdict(set)
    for pk, conversation_id in stored_conversation.items():
        existing_by_root[find(pk)].add(conversation_id)

    fresh_roots = [root for root in groups if not existing_by_root[root]]
    numbers = iter(allocate_conversation_numbers(organization, len(fresh_roots)))
    created = Conversation.objects.bulk_create(
        _new_conversation(organization, next(numbers), groups[root]) for root in fresh_roots
    )
    chosen = dict(zip(fresh_roots, (c.pk for c in created), strict=True))
    touched = set(chosen.values())
    merges: dict[int, int] = {}
    for root, conversation_ids in existing_by_root.items():
        if root not in groups:
            continue
        keep = min(conversation_ids)
        chosen[root] = keep
        touched.add(keep)
        merges.update((other, keep) for other in conversation_ids - {keep})

    for root, members in groups.items():
        for message in members:
            message.conversation_id = chosen[root]
    Message.objects.bulk_update(list(messages), ["parent", "conversation"])
    if adopted:
        Message.objects.bulk_update(adopted, ["parent"])
    for merged, keep in merges.items():
        Message.objects.filter(conversation_id=merged).update(conversation_id=keep)
        Conversation.objects.filter(pk=merged).update(status=Status.MERGED, merged_into_id=keep)
    refresh_conversations(touched)
    return touched


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
    conversations = list(Conversation.objects.filter(pk__in=timelines))
    links: list[Any] = []
    for conversation in conversations:
        timeline = sorted(timelines[conversation.pk], key=lambda row: row[0])
        _apply_timeline(conversation, timeline)
        links.extend(
            Conversation.channels.through(conversation_id=conversation.pk, channel_id=channel_id)
            for channel_id in {row[3] for row in timeline}
        )
    Conversation.objects.bulk_update(
        conversations,
        [
            "started_at",
            "last_message_at",
            "waiting_since",
            "first_response_at",
            "customer",
            "status",
        ],
    )
    Conversation.channels.through.objects.bulk_create(links, ignore_conflicts=True)


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
