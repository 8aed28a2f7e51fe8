"""Staff actions on conversations (move a message, split, merge), each undoable from its event."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from earful.conversations.models import Conversation, JoinRule, Message, Status
from earful.conversations.threading import allocate_conversation_numbers, refresh_conversations
from earful.errors import DomainError
from earful.org.events import record_event
from earful.org.models import Event

Actor = User | AnonymousUser | None
UNDOABLE = frozenset({"conversation.message_moved", "conversation.split", "conversation.merged"})


class ConversationActionError(DomainError):
    """An action on conversations that cannot be done, with the reason."""


@transaction.atomic
def move_message(message: Message, target: Conversation, *, by: Actor) -> Event:
    """Move one message into another conversation of the same organization."""
    _check_target(message.organization_id, target)
    if message.conversation_id == target.pk:
        raise ConversationActionError("the message is already in that conversation")
    return _move("conversation.message_moved", [message], target, by=by)


@transaction.atomic
def split_conversation(conversation: Conversation, first: Message, *, by: Actor) -> Event:
    """Move `first` and every later message of the conversation into a new conversation."""
    if first.conversation_id != conversation.pk:
        raise ConversationActionError("the message is not in this conversation")
    moving = list(
        conversation.messages.filter(created_at__gte=first.created_at).order_by("created_at")
    )
    if len(moving) == conversation.messages.count():
        raise ConversationActionError("splitting at the first message would leave nothing behind")
    (number,) = allocate_conversation_numbers(conversation.organization, 1)
    new = Conversation.objects.create(
        organization_id=conversation.organization_id,
        number=number,
        subject=" ".join(first.text.split())[:120],
        customer_id=conversation.customer_id,
        started_at=first.created_at,
        last_message_at=first.created_at,
    )
    return _move("conversation.split", moving, new, by=by)


@transaction.atomic
def merge_conversations(source: Conversation, target: Conversation, *, by: Actor) -> Event:
    """Move every message of source into target; source stays, marked merged into target."""
    _check_target(source.organization_id, target)
    if source.pk == target.pk:
        raise ConversationActionError("a conversation cannot be merged into itself")
    if source.status == Status.MERGED:
        raise ConversationActionError("that conversation was already merged")
    return _move("conversation.merged", list(source.messages.all()), target, by=by)


@transaction.atomic
def undo(event: Event, *, by: Actor) -> Event:
    """Put back what a move, split or merge changed; the undo is itself in the event log."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.verb not in UNDOABLE:
        raise ConversationActionError(f"{event.verb} cannot be undone")
    if Event.objects.filter(verb=f"{event.verb}.undone", target_id=str(event.code)).exists():
        raise ConversationActionError("this action was already undone")
    before: dict[str, Any] = event.before or {}
    target_id: int = (event.after or {})["conversation"]
    for pk, (conversation_id, rule, confidence) in before["messages"].items():
        Message.objects.filter(pk=int(pk)).update(
            conversation_id=conversation_id, join_rule=rule, join_confidence=confidence
        )
    sources = before["conversations"]
    for pk, (status, merged_into) in sources.items():
        Conversation.objects.filter(pk=int(pk)).update(status=status, merged_into_id=merged_into)
    touched = {int(pk) for pk in sources} | {target_id}
    _retire_if_empty(target_id, into=int(next(iter(sources))))
    refresh_conversations(touched)
    return record_event(
        event.organization,
        f"{event.verb}.undone",
        actor=by,
        target=event,
        before=event.after,
        after=before,
    )


def _check_target(organization_id: int, target: Conversation) -> None:
    if target.organization_id != organization_id:
        raise ConversationActionError("the conversation belongs to another organization")
    if target.status == Status.MERGED:
        raise ConversationActionError("that conversation was merged; use the one it went into")


def _retire_if_empty(conversation_id: int, *, into: int) -> bool:
    """Mark a conversation left without messages as merged where they went; it stays for the log."""
    if Message.objects.filter(conversation_id=conversation_id).exists():
        return False
    Conversation.objects.filter(pk=conversation_id).update(
        status=Status.MERGED, merged_into_id=into
    )
    return True


def _move(
    verb: str,
    messages: list[Message],
    target: Conversation,
    *,
    by: Actor,
    extra: dict[str, Any] | None = None,
) -> Event:
    sources = Conversation.objects.filter(
        pk__in={m.conversation_id for m in messages if m.conversation_id is not None}
    )
    before = {
        "messages": {
            str(m.pk): (m.conversation_id, m.join_rule, m.join_confidence) for m in messages
        },
        "conversations": {str(c.pk): (c.status, c.merged_into_id) for c in sources},
    }
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(
        conversation=target, join_rule=JoinRule.AGENT, join_confidence=1.0
    )
    kept = {c.pk for c in sources if not _retire_if_empty(c.pk, into=target.pk)}
    refresh_conversations({target.pk} | kept)
    return record_event(
        target.organization,
        verb,
        actor=by,
        target=target,
        before=before,
        after={"conversation": target.pk, **(extra or {})},
    )
