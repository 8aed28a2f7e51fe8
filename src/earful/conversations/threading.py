"""Threading: link replies to what they answer and group linked messages into conversations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, OuterRef, Subquery

from earful.conversations.models import (
    Conversation,
    Direction,
    JoinRule,
    Message,
    Origin,
    Status,
)
from earful.conversations.stitching import Stitcher
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

    Replies join their parent's conversation. Messages may arrive before what they answer
    (imports are not in time order), so a new message also adopts stored orphans that
    answer it; when a link joins two conversations the younger is merged into the older.
    A message with no reply link is stitched to a conversation by evidence (stitching.py).
    A conversation quiet for longer than the organization's gap is not joined: the new
    message starts a conversation that follows it. Returns the ids of changed conversations.
    """
    if not messages:
        return set()
    root_of: dict[Key, Key] = {}

    def find(key: Key) -> Key:
        while root_of.setdefault(key, key) != key:
            root_of[key] = root_of[root_of[key]]
            key = root_of[key]
        return key

    def union(a: Key, b: Key) -> None:
        root_of[find(a)] = find(b)

    new = {(m.channel_id, m.external_id): m for m in messages}
    linked: set[Key] = set()
    parent_in_batch: dict[tuple[int, str], tuple[int, str]] = {}
    stored_conversation: dict[Key, int] = {}
    adopted: list[int] = []
    for channel_id in {m.channel_id for m in messages}:
        ids = [external_id for (channel, external_id) in new if channel == channel_id]
        wanted = {new[(channel_id, e)].in_reply_to_external_id for e in ids} - set(ids) - {""}
        stored = Message.objects.filter(channel_id=channel_id, external_id__in=wanted)
        stored_pk: dict[str, int] = {}
        for pk, external_id, conversation_id in stored.values_list(
            "pk", "external_id", "conversation_id"
        ):
            stored_pk[external_id] = pk
            stored_conversation[pk] = conversation_id
        for external_id in ids:
            reply_to = new[(channel_id, external_id)].in_reply_to_external_id
            if reply_to == external_id or not reply_to:
                continue
            if (channel_id, reply_to) in new:
                union((channel_id, external_id), (channel_id, reply_to))
                linked.add((channel_id, external_id))
                parent_in_batch[(channel_id, external_id)] = (channel_id, reply_to)
            elif reply_to in stored_pk:
                union((channel_id, external_id), stored_pk[reply_to])
                linked.add((channel_id, external_id))
                new[(channel_id, external_id)].parent_id = stored_pk[reply_to]
        orphans = Message.objects.filter(
            channel_id=channel_id, parent__isnull=True, in_reply_to_external_id__in=ids
        ).values_list("pk", "conversation_id", "in_reply_to_external_id")
        for pk, conversation_id, reply_to in orphans:
            adopted.append(pk)
            union(pk, (channel_id, reply_to))
            stored_conversation[pk] = conversation_id

    groups: dict[Key, list[Message]] = defaultdict(list)
    for key, message in sorted(new.items(), key=lambda item: item[1].created_at):
        groups[find(key)].append(message)
    existing_by_root: dict[Key, set[int]] = defaultdict(set)
    for stored_key, conversation_id in stored_conversation.items():
        if conversation_id is not None:
            existing_by_root[find(stored_key)].add(conversation_id)
    last_activity = dict(
        Conversation.objects.filter(
            pk__in={c for ids in existing_by_root.values() for c in ids}
        ).values_list("pk", "last_message_at")
    )
    gap = timedelta(hours=organization.quiet_gap_hours)

    # Each group ends in a stored conversation (int) or a new one (a str slot).
    target_of: dict[Key, int | str] = {}
    follows: dict[str, int] = {}
    rule_of: dict[Key, tuple[JoinRule, float]] = {}
    merges: dict[int, int] = {}
    fresh: list[Key] = []
    for root, members in groups.items():
        conversation_ids = existing_by_root.get(root)
        if not conversation_ids:
            fresh.append(root)
            continue
        keep = min(conversation_ids)
        if members[0].created_at - max(last_activity[c] for c in conversation_ids) > gap:
            target_of[root] = _slot(root)
            follows[_slot(root)] = keep
            continue
        target_of[root] = keep
        merges.update((other, keep) for other in conversation_ids - {keep})

    stitcher = Stitcher.for_batch(organization, [groups[root][0] for root in fresh])
    for root in fresh:
        first = groups[root][0]
        match = stitcher.match(first)
        if match is not None and first.created_at - match.last_message_at <= gap:
            target_of[root] = match.target
            rule_of[root] = (match.rule, match.confidence)
            stitcher.touch(match.target, first)
            continue
        target_of[root] = _slot(root)
        if match is not None and isinstance(match.target, int):
            follows[_slot(root)] = match.target
        stitcher.add_new(_slot(root), first)

    in_slot: dict[str, list[Message]] = defaultdict(list)
    for root, members in groups.items():
        target = target_of[root]
        if isinstance(target, str):
            in_slot[target].extend(members)
    slots = sorted(in_slot)
    first_of_slot = {
        _slot(root): groups[root][0] for root in groups if target_of[root] == _slot(root)
    }
    numbers = iter(allocate_conversation_numbers(organization, len(slots)))
    # A new conversation holds only this batch's messages: its timeline is known here,
    # so it is stored complete rather than updated after.
    created = Conversation.objects.bulk_create(
        _new_conversation(
            organization, next(numbers), first_of_slot[slot], in_slot[slot], follows.get(slot)
        )
        for slot in slots
    )
    conversation_of_slot = dict(zip(slots, (c.pk for c in created), strict=True))
    Conversation.channels.through.objects.bulk_create(
        Conversation.channels.through(conversation_id=conversation_of_slot[slot], channel_id=c)
        for slot in slots
        for c in sorted({m.channel_id for m in in_slot[slot]})
    )

    for root, members in groups.items():
        target = target_of[root]
        conversation_id = conversation_of_slot[target] if isinstance(target, str) else target
        root_rule = rule_of.get(root, (JoinRule.NEW, 1.0))
        for message in members:
            message.conversation_id = conversation_id
            is_reply = (message.channel_id, message.external_id) in linked
            message.join_rule, message.join_confidence = (
                (JoinRule.REPLY, 1.0) if is_reply else root_rule
            )
    late = _insert_parents_first(new, parent_in_batch)
    _link_parents(late + adopted)
    Message.objects.filter(pk__in=adopted).update(join_rule=JoinRule.REPLY, join_confidence=1.0)
    for merged, keep in merges.items():
        Message.objects.filter(conversation_id=merged).update(conversation_id=keep)
        Conversation.objects.filter(pk=merged).update(status=Status.MERGED, merged_into_id=keep)
    touched = {m.conversation_id for m in messages if m.conversation_id is not None}
    refresh_conversations(touched - set(conversation_of_slot.values()))
    return touched


def _slot(root: Key) -> str:
    return f"new:{root}"


def _insert_parents_first(
    new: dict[tuple[int, str], Message], parent_in_batch: dict[tuple[int, str], tuple[int, str]]
) -> list[int]:
    """Insert messages parents before replies, each reply pointing at its parent as it is stored.

    Setting the parent afterwards would rewrite every reply's row (and its search index
    entry). One insert per generation of the batch's reply chains; messages in a reply loop
    are inserted last and their ids returned, for their parents to be linked after.
    """
    pending = dict(new)
    while pending:
        ready = {key: m for key, m in pending.items() if parent_in_batch.get(key) not in pending}
        if not ready:
            Message.objects.bulk_create(pending.values())
            return [m.pk for m in pending.values()]
        for key, message in ready.items():
            if key in parent_in_batch:
                message.parent_id = new[parent_in_batch[key]].pk
        Message.objects.bulk_create(ready.values())
        pending = {key: m for key, m in pending.items() if key not in ready}
    return []


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
    organization: Organization,
    number: int,
    first: Message,
    messages: list[Message],
    follows: int | None,
) -> Conversation:
    timeline = sorted(
        (
            (
                m.created_at,
                m.direction,
                m.identity.customer_id if m.identity is not None else None,
                m.channel_id,
            )
            for m in messages
        ),
        key=lambda row: row[0],
    )
    conversation = Conversation(
        follows_id=follows,
        organization=organization,
        number=number,
        subject=" ".join(first.text.split())[:SUBJECT_CHARS],
        origin=Origin.INBOUND if first.direction == Direction.IN else Origin.PROACTIVE,
    )
    _apply_timeline(conversation, timeline)
    return conversation


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
    changed: list[Conversation] = []
    changed_fields: set[str] = set()
    for conversation in conversations:
        timeline = sorted(timelines[conversation.pk], key=lambda row: row[0])
        before = _timeline_fields(conversation)
        _apply_timeline(conversation, timeline)
        after = _timeline_fields(conversation)
        if after != before:
            changed.append(conversation)
            changed_fields.update(name for name in after if after[name] != before[name])
        links.extend(
            Conversation.channels.through(conversation_id=conversation.pk, channel_id=channel_id)
            for channel_id in {row[3] for row in timeline}
        )
    # One statement for the whole set, not one per conversation.
    if changed:
        Conversation.objects.bulk_update(changed, sorted(changed_fields))
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
