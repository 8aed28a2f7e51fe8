"""Hand-off and report back: a department fixes it, the owning agent tells the customer.

Steps, each an event: handoff.requested (conversation waits on the department; a ticket is
queued at each of the department's outside destinations) -> handoff.acknowledged and
handoff.in_progress (from a tracker) -> handoff.fixed or handoff.wont_fix (back to open; the
agent is prompted with a drafted reply) -> handoff.reported_back (the reply went to the
outbox; the customer is no longer owed). A hand-off the department leaves unanswered past
its due time is escalated to the managers once (handoff.escalated).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.core.mail import send_mail
from django.db import transaction

from earful.conversations.models import (
    TO_REPORT_BACK,
    WITH_DEPARTMENT,
    Conversation,
    Handoff,
    HandoffStatus,
    Message,
    Status,
)
from earful.conversations.stitching import case_reference
from earful.errors import DomainError
from earful.inbox.replies import ReplyHeldError, hold_reply, send_reply_to_customer
from earful.inbox.sla import add_business_time, policy_for, sync_clocks
from earful.inbox.tickets import queue_tickets
from earful.org.access import manager_emails
from earful.org.events import record_event
from earful.org.models import Department, Membership, Organization, Role
from earful.org.training import membership_of, needs_approval

Actor = User | AnonymousUser | None


@transaction.atomic
def hand_off(
    conversation: Conversation, department: Department, question: str, *, by: Actor, now: datetime
) -> Handoff:
    """Pass a conversation to a department with a note; it waits on them until fixed."""
    if department.organization_id != conversation.organization_id:
        raise DomainError("that department belongs to another organization")
    if not question.strip():
        raise DomainError("say what the department should look at")
    if conversation.handoffs.filter(to_department=department, status__in=WITH_DEPARTMENT).exists():
        raise DomainError(f"{department.name} already has this conversation")
    requester = _membership(conversation, by)
    policy = policy_for(conversation.organization)
    handoff = Handoff.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        from_department=requester.department if requester else None,
        to_department=department,
        requested_by=by if isinstance(by, User) else None,
        question=question.strip(),
        created_at=now,
        due_at=add_business_time(now, policy.handoff_minutes * 60, policy),
    )
    tickets = queue_tickets(handoff, now)
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
        after={
            "handoff": str(handoff.code),
            "department": department.name,
            "destinations": [t.destination.kind for t in tickets],
        },
    )
    return handoff


@transaction.atomic
def mark_fixed(handoff: Handoff, answer: str, *, by: Actor, now: datetime) -> Handoff:
    """The department says it is fixed; the owner is owed a report back to the customer."""
    if handoff.status not in WITH_DEPARTMENT:
        raise DomainError("this hand-off is already closed")
    member = _membership(handoff.conversation, by)
    allowed = member is not None and (
        member.department_id == handoff.to_department_id
        or member.role in (Role.ADMIN, Role.MANAGER)
    )
    if not allowed:
        raise DomainError(f"only {handoff.to_department.name} or a manager can mark this fixed")
    return _close(handoff, HandoffStatus.FIXED, answer.strip(), by=by, via="", now=now)


@transaction.atomic
def close_from_outside(
    handoff: Handoff, status: str, answer: str, *, via: str, now: datetime
) -> Handoff:
    """The department closed the hand-off's ticket at its destination (fixed or won't fix)."""
    if status not in TO_REPORT_BACK:
        raise DomainError(f"a hand-off cannot be closed as {status!r}")
    if handoff.status not in WITH_DEPARTMENT:
        raise DomainError("this hand-off is already closed")
    return _close(handoff, status, answer.strip(), by=None, via=via, now=now)


def _close(
    handoff: Handoff, status: str, answer: str, *, by: Actor, via: str, now: datetime
) -> Handoff:
    policy = policy_for(handoff.conversation.organization)
    before = handoff.status
    handoff.status = status
    handoff.answer = answer
    handoff.answered_by = by if isinstance(by, User) else None
    handoff.answered_at = handoff.answered_at or now
    handoff.fixed_at = now
    handoff.report_back_due = add_business_time(now, policy.next_response_minutes * 60, policy)
    handoff.save()
    conversation = handoff.conversation
    if (
        conversation.status == Status.WAITING_ON_DEPARTMENT
        and not conversation.handoffs.filter(status__in=WITH_DEPARTMENT).exists()
    ):
        conversation.status = Status.OPEN
        conversation.save(update_fields=["status"])
        sync_clocks(conversation, now)
    after = {"handoff": str(handoff.code), "answer": handoff.answer}
    record_event(
        conversation.organization,
        "handoff.fixed" if status == HandoffStatus.FIXED else "handoff.wont_fix",
        actor=by,
        target=conversation,
        before={"status": before},
        after={**after, "via": via} if via else after,
    )
    return handoff


def report_back_draft(handoff: Handoff) -> str:
    """The drafted "it's fixed" reply the owning agent is prompted with."""
    conversation = handoff.conversation
    customer = conversation.customer.display_name if conversation.customer else ""
    greeting = f"Hi {customer}," if customer else "Hi,"
    detail = f" {handoff.answer.rstrip('.')}." if handoff.answer else ""
    reference = case_reference(conversation.organization, conversation.number)
    if handoff.status == HandoffStatus.WONT_FIX:
        return (
            f"{greeting} our {handoff.to_department.name} team has looked into what you "
            f"reported ({reference}) and will not be changing it for now.{detail} Thank you "
            f"for telling us; please reply if this leaves you stuck and we will find another way."
        )
    return (
        f"{greeting} good news: our {handoff.to_department.name} team has fixed the issue "
        f"you reported ({reference}).{detail} Thank you for your patience, and please tell us "
        f"if anything still isn't right."
    )


def report_back(handoff: Handoff, text: str, *, by: Actor, now: datetime) -> Message:
    """Send the report back to the customer and close the hand-off.

    From a member in training the report is held for review instead (ReplyHeldError, raised
    after the draft is stored); approving it tells the hand-off then (`mark_told`).
    """
    if handoff.status not in TO_REPORT_BACK:
        raise DomainError("only a closed hand-off (fixed or won't fix) can be reported back")
    membership = membership_of(by, handoff.organization_id)
    if needs_approval(membership):
        assert membership is not None
        with transaction.atomic():
            draft = hold_reply(handoff.conversation, text, by=membership, now=now, handoff=handoff)
        raise ReplyHeldError(draft)
    with transaction.atomic():
        message = send_reply_to_customer(handoff.conversation, text, by=by, now=now)
        mark_told(handoff, message, by=by)
    return message


def mark_told(handoff: Handoff, message: Message, *, by: Actor) -> None:
    """Record that this reply told the customer about the closed hand-off."""
    if handoff.status not in TO_REPORT_BACK:
        return
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


def _membership(conversation: Conversation, by: Actor) -> Membership | None:
    if not isinstance(by, User):
        return None
    return Membership.objects.filter(organization_id=conversation.organization_id, user=by).first()


def escalate_overdue(organization: Organization, now: datetime) -> list[Handoff]:
    """Escalate, once each, hand-offs the department left unanswered past their due time:
    an event, and an email to the managers (in-app or at an outside destination alike)."""
    overdue = list(
        Handoff.objects.filter(
            organization=organization,
            status__in=(HandoffStatus.OPEN, HandoffStatus.ACKNOWLEDGED),
            due_at__lt=now,
            escalated_at=None,
        ).select_related("to_department", "conversation")
    )
    for handoff in overdue:
        with transaction.atomic():
            if not Handoff.objects.filter(pk=handoff.pk, escalated_at=None).update(
                escalated_at=now
            ):
                continue
            record_event(
                organization,
                "handoff.escalated",
                target=handoff.conversation,
                after={
                    "handoff": str(handoff.code),
                    "department": handoff.to_department.name,
                    "due_at": handoff.due_at.isoformat() if handoff.due_at else "",
                },
            )
    recipients = manager_emails(organization)
    if overdue and recipients:
        lines = [
            f"#{h.conversation.number}: {h.to_department.name}, due {h.due_at:%Y-%m-%d %H:%M} UTC"
            for h in overdue
        ]
        # Staff-written department names and numbers only, never the customer's words.
        send_mail(
            subject=f"[earful] {len(overdue)} hand-off(s) unanswered in {organization.slug}",
            message="These hand-offs passed their due time unanswered:\n" + "\n".join(lines),
            from_email=None,
            recipient_list=recipients,
            fail_silently=True,
        )
    return overdue
