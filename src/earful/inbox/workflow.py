"""Status changes and internal notes with @mentions."""

from __future__ import annotations

import re
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.core.mail import send_mail
from django.db import transaction

from earful.conversations.models import (
    TO_REPORT_BACK,
    WITH_DEPARTMENT,
    Conversation,
    Direction,
    Note,
    Status,
)
from earful.errors import DomainError
from earful.feedback.requests import after_resolved
from earful.inbox.models import NotificationPolicy
from earful.inbox.sla import sync_clocks
from earful.org.events import record_event
from earful.org.models import Membership

Actor = User | AnonymousUser | None
MENTION = re.compile(r"(?<![\w.])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")
SETTABLE = (Status.OPEN, Status.PENDING, Status.SNOOZED, Status.RESOLVED)


def unanswered(conversation: Conversation) -> bool:
    """Whether the customer still waits for a reply from us (or for a fix to be reported)."""
    if conversation.waiting_since is not None:
        return True
    if not conversation.messages.filter(direction=Direction.OUT).exists():
        return True
    return conversation.handoffs.filter(status__in=WITH_DEPARTMENT + TO_REPORT_BACK).exists()


@transaction.atomic
def set_status(
    conversation: Conversation, status: str, *, by: Actor, now: datetime, reason: str = ""
) -> Conversation:
    """Change a conversation's status; resolving one still unanswered needs a reason."""
    if status not in SETTABLE:
        raise DomainError(f"a conversation cannot be set to {status!r}")
    if conversation.status == Status.MERGED:
        raise DomainError("this conversation was merged into another")
    reason = reason.strip()
    if status == Status.RESOLVED and unanswered(conversation) and not reason:
        raise DomainError("this conversation is unanswered: give a reason to resolve it")
    before = conversation.status
    conversation.status = status
    conversation.resolved_at = now if status == Status.RESOLVED else None
    conversation.save(update_fields=["status", "resolved_at"])
    sync_clocks(conversation, now)
    record_event(
        conversation.organization,
        "conversation.status_changed",
        actor=by,
        target=conversation,
        before={"status": before},
        after={"status": status, "reason": reason},
    )
    if status == Status.RESOLVED and before != Status.RESOLVED:
        after_resolved(conversation, now=now)
    return conversation


def mentioned(conversation: Conversation, text: str) -> list[Membership]:
    """The organization's members named in a text as @email or @name (the part before @)."""
    names = {m.lower() for m in MENTION.findall(text)}
    if not names:
        return []
    members = Membership.objects.filter(organization_id=conversation.organization_id)
    return [
        m
        for m in members.select_related("user").order_by("pk")
        if m.user.email.lower() in names or m.user.email.lower().split("@")[0] in names
    ]


@transaction.atomic
def add_note(conversation: Conversation, text: str, *, by: Actor) -> Note:
    """Add an internal note; the members it @mentions are named in its event and emailed."""
    text = text.strip()
    if not text:
        raise DomainError("the note is empty")
    note = Note.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        author=by if isinstance(by, User) else None,
        text=text,
    )
    members = mentioned(conversation, text)
    named = [m.user.email for m in members]
    record_event(
        conversation.organization,
        "conversation.note_added",
        actor=by,
        target=conversation,
        after={"note": str(note.code), "mentions": named},
    )
    author = by.email if isinstance(by, User) else ""
    # Members with their own notification settings hear of it there, within their quiet
    # hours and limits (inbox.notifications), not by an email now.
    own = set(
        NotificationPolicy.objects.filter(member__in=members, mentions=True).values_list(
            "member__user__email", flat=True
        )
    )
    recipients = [email for email in named if email and email != author and email not in own]
    if recipients:
        transaction.on_commit(lambda: _tell_mentioned(conversation, text, author, recipients))
    return note


def _tell_mentioned(
    conversation: Conversation, text: str, author: str, recipients: list[str]
) -> None:
    """Email the members a note mentions (the subject carries only the number)."""
    send_mail(
        subject=f"[earful] You were mentioned on #{conversation.number}",
        message=f"{author or 'Someone'} wrote on conversation #{conversation.number} "
        f"(/o/{conversation.organization.slug}/c/{conversation.number}/):\n\n{text}",
        from_email=None,
        recipient_list=recipients,
        fail_silently=True,
    )
