"""Playbooks: a canned reply with actions, run on a conversation in one step."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from earful.conversations.models import Conversation, Message
from earful.inbox import canned, handoffs, workflow
from earful.inbox.models import CannedReply
from earful.inbox.replies import ReplyHeldError, hold_reply, send_reply_to_customer
from earful.inbox.review_models import ReplyDraft
from earful.org.events import record_event
from earful.org.training import membership_of, needs_approval

Actor = canned.Actor


def run_playbook(
    conversation: Conversation, playbook: CannedReply, *, by: Actor, now: datetime
) -> Message | None:
    """Send the playbook's reply (variables filled), then its hand-off, priority and status.

    All or nothing: if any step is refused (say the department already has the
    conversation), nothing of the playbook happens. From a member in training the reply is
    held for review and the other steps run; ReplyHeldError says so once they are stored.
    """
    reply, held = _run(conversation, playbook, by=by, now=now)
    if held is not None:
        raise ReplyHeldError(held)
    return reply


@transaction.atomic
def _run(
    conversation: Conversation, playbook: CannedReply, *, by: Actor, now: datetime
) -> tuple[Message | None, ReplyDraft | None]:
    values = canned.variables(conversation, by)
    reply = held = None
    if playbook.text.strip():
        text = canned.render(playbook.text, values)
        membership = membership_of(by, conversation.organization_id)
        if needs_approval(membership):
            assert membership is not None
            held = hold_reply(conversation, text, by=membership, now=now)
        else:
            reply = send_reply_to_customer(conversation, text, by=by, now=now)
    if playbook.handoff_to is not None:
        question = canned.render(playbook.handoff_question or playbook.name, values)
        handoffs.hand_off(conversation, playbook.handoff_to, question, by=by, now=now)
    if playbook.set_priority is not None and playbook.set_priority != conversation.priority:
        before = conversation.priority
        Conversation.objects.filter(pk=conversation.pk).update(priority=playbook.set_priority)
        record_event(
            conversation.organization,
            "conversation.priority_changed",
            actor=by,
            target=conversation,
            before={"priority": before},
            after={"priority": playbook.set_priority},
        )
    if playbook.set_status:
        conversation.refresh_from_db()
        workflow.set_status(
            conversation,
            playbook.set_status,
            by=by,
            now=now,
            reason=f"playbook {playbook.name}",
        )
    record_event(
        conversation.organization,
        "playbook.run",
        actor=by,
        target=conversation,
        after={
            "playbook": playbook.name,
            "reply": str(reply.code) if reply else None,
            "held": str(held.code) if held else None,
        },
    )
    return reply, held
