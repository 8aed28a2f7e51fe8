"""Hand-off and report back: a department fixes it, the owning agent tells the customer.

Steps, each an event: handoff.requested (conversation waits on the department) ->
handoff.fixed (back to open; the agent is prompted with a drafted reply) ->
handoff.reported_back (the reply went to the outbox; the customer is no longer owed).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from earful.conversations.models import Conversation, Handoff, HandoffStatus, Message, Status
from earful.conversations.stitching import case_reference
from earful.errors import DomainError
from earful.inbox.replies import send_reply_to_customer
from earful.inbox.sla import add_business_time, policy_for, sync_clocks
from earful.org.events import record_event
from earful.org.models import Department, Membership, Role

Actor = User | AnonymousUser | None
UNFINISHED = (HandoffStatus.OPEN, HandoffStatus.ANSWERED)


@transaction.atomic
def hand_off(
    conversation: Conversation, department: Department, question: str, *, by: Actor, now: datetime
) -> Handoff:
    """Pass a conversation to a department with a note; it waits on them until fixed."""
    if department.organization_id != conversation.organization_id:
        raise DomainError("that department belongs to another organization")
    if not question.strip():
        raise DomainError("say what the department should look at")
    if conversation.handoffs.filter(to_department=department, status__in=UNFINISHED).exists():
        raise DomainError(f"{department.name} already has this conversation")
    requester = _membership(conversation, by)
    handoff = Handoff.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        from_department=requester.department if requester else None,
        to_department=department,
        requested_by=by if isinstance(by, User) else None,
        question=question.strip(),
    )
    before = conversation.status
    conversation.status = Status.WAITING_ON_DEPARTMENT
    conversation.save(update_fields=["status"])
    sync_clocks(conversation, now)
    record_event(
        conversation.organization,
        "handoff.requested",
        actor=by,
        target=conversation,
        before={"status": before},
        after={"handoff": str(handoff.code), "department": department.name},
    )
    return handoff


@transaction.atomic
def mark_fixed(handoff: Handoff, answer: str, *, by: Actor, now: datetime) -> Handoff:
    """The department says it is fixed; the owner is owed a report back to the customer."""
    if handoff.status not in UNFINISHED:
        raise DomainError("this hand-off is already closed")
    member = _membership(handoff.conversation, by)
    allowed = member is not None and (
        member.department_id == handoff.to_department_id
        or member.role in (Role.ADMIN, Role.MANAGER)
    )
    if not allowed:
        raise DomainError(f"only {handoff.to_department.name} or a manager can mark this fixed")
    policy = policy_for(handoff.conversation.organization)
    handoff.status = HandoffStatus.FIXED
    handoff.answer = answer.strip()
    handoff.answered_by = by if isinstance(by, User) else None
    handoff.answered_at = handoff.fixed_at = now
    handoff.report_back_due = add_business_time(now, policy.next_response_minutes * 60, policy)
    handoff.save()
    conversation = handoff.conversation
    if conversation.status == Status.WAITING_ON_DEPARTMENT:
        conversation.status = Status.OPEN
        conversation.save(update_fields=["status"])
        sync_clocks(conversation, now)
    record_event(
        conversation.organization,
        "handoff.fixed",
        actor=by,
        target=conversation,
        before={"status": HandoffStatus.OPEN},
        after={"handoff": str(handoff.code), "answer": handoff.answer},
    )
    return handoff


def report_back_draft(handoff: Handoff) -> str:
    """The drafted "it's fixed" reply the owning agent is prompted with."""
    conversation = handoff.conversation
    customer = conversation.customer.display_name if conversation.customer else ""
    greeting = f"Hi {customer}," if customer else "Hi,"
    detail = f" {handoff.answer.rstrip('.')}." if handoff.answer else ""
    reference = case_reference(conversation.organization, conversation.number)
    return (
        f"{greeting} good news: our {handoff.to_department.name} team has fixed the issue "
        f"you reported ({reference}).{detail} Thank you for your patience, and please tell us "
        f"if anything still isn't right."
    )


@transaction.atomic
def report_back(handoff: Handoff, text: str, *, by: Actor, now: datetime) -> Message:
    """Send the report back to the customer and close the hand-off."""
    if handoff.status != HandoffStatus.FIXED:
        raise DomainError("only a fixed hand-off can be reported back")
    message = send_reply_to_customer(handoff.conversation, text, by=by, now=now)
    handoff.status = HandoffStatus.REPORTED_BACK
    handoff.reported_back_message = message
    handoff.save(update_fields=["status", "reported_back_message"])
    record_event(
        handoff.organization,
        "handoff.reported_back",
        actor=by,
        target=handoff.conversation,
        after={"handoff": str(handoff.code), "message": str(message.code)},
    )
    return message


def _membership(conversation: Conversation, by: Actor) -> Membership | None:
    if not isinstance(by, User):
        return None
    return Membership.objects.filter(organization_id=conversation.organization_id, user=by).first()
