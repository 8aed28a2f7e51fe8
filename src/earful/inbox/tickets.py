"""Hand-offs at departments' outside destinations: configure them, open tickets there.

A hand-off to a department with destinations queues one ticket per destination in the
hand-off's transaction; the tick opens them outside any transaction (claimed with a
conditional UPDATE, retried with the outbox's backoff and never dropped, so a tracker that
is down only delays the hand-off, visibly). What comes back is `tracker_updates`' part.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Q

from earful.channels.http import OutboundError
from earful.conversations.models import (
    Direction,
    Handoff,
)
from earful.conversations.stitching import case_reference
from earful.errors import DomainError
from earful.inbox.destinations import (
    ConnectorError,
    OpenedTicket,
    Quote,
    TicketDraft,
    build_destination,
    parse_settings,
)
from earful.inbox.destinations import Destination as Client
from earful.inbox.models import (
    Destination,
    DestinationKind,
    ExternalTicket,
    Redaction,
    TicketState,
)
from earful.inbox.outbox import STALE_CLAIM, backoff
from earful.org.events import record_event
from earful.org.models import Department

log = logging.getLogger(__name__)
Actor = User | AnonymousUser | None

# How many of the customer's latest messages a ticket quotes, and how much of each.
QUOTED_MESSAGES = 3
QUOTE_LIMIT = 2000
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
HANDLE = re.compile(r"(?<![\w.])@[\w.]+")
PHONE = re.compile(r"\+?\d[\d ()-]{7,}\d")


def client_for(destination: Destination) -> Client:
    """The destination's client, built from its stored settings."""
    return build_destination(destination.kind, destination.settings)


@transaction.atomic
def add_destination(
    department: Department,
    kind: str,
    raw_settings: dict[str, Any],
    *,
    redaction: str = Redaction.CONTACT,
    by: Actor,
) -> Destination:
    """Reach a department through a tracker or chat room as well as inside earful."""
    if kind not in DestinationKind.values:
        raise DomainError(f"unknown destination kind {kind!r}")
    if redaction not in Redaction.values:
        raise DomainError(f"unknown redaction {redaction!r}")
    try:
        parse_settings(kind, raw_settings)
    except ConnectorError as exc:
        raise DomainError(str(exc)) from None
    if Destination.objects.filter(department=department, kind=kind).exists():
        raise DomainError(f"{department.name} already has a {kind} destination")
    destination = Destination.objects.create(
        organization_id=department.organization_id,
        department=department,
        kind=kind,
        settings=raw_settings,
        redaction=redaction,
    )
    record_event(
        department.organization,
        "destination.added",
        actor=by,
        target=destination,
        after={"department": department.slug, "kind": kind, "redaction": redaction},
    )
    return destination


@transaction.atomic
def remove_destination(destination: Destination, *, by: Actor) -> None:
    """Stop reaching the department there; tickets already opened stay where they are."""
    record_event(
        destination.organization,
        "destination.removed",
        actor=by,
        target=destination,
        before={"department": destination.department.slug, "kind": destination.kind},
    )
    destination.delete()


def check_destination(destination: Destination, now: datetime, *, by: Actor) -> str:
    """Try the destination's credentials and keep the answer for its settings page."""
    try:
        answer, ok = client_for(destination).check(), True
    except OutboundError as exc:
        answer, ok = str(exc), False
    destination.last_check, destination.last_check_ok, destination.last_check_at = answer, ok, now
    destination.save(update_fields=["last_check", "last_check_ok", "last_check_at"])
    record_event(
        destination.organization,
        "destination.checked",
        actor=by,
        target=destination,
        after={"ok": ok, "answer": answer},
    )
    return answer


def queue_tickets(handoff: Handoff, now: datetime) -> list[ExternalTicket]:
    """Queue a ticket at each of the department's destinations (inside the hand-off's
    transaction); they are opened on commit and by the tick until they are."""
    tickets = [
        ExternalTicket.objects.create(
            organization_id=handoff.organization_id,
            handoff=handoff,
            destination=destination,
            next_attempt_at=now,
        )
        for destination in Destination.objects.filter(
            department_id=handoff.to_department_id, enabled=True
        ).order_by("pk")
    ]
    for ticket in tickets:
        transaction.on_commit(partial(_open_after_commit, ticket.pk, now))
    return tickets


def _open_after_commit(pk: int, now: datetime) -> None:
    # A failure here is the tick's to retry; the hand-off itself is already stored.
    try:
        open_ticket(ExternalTicket.objects.get(pk=pk), now)
    except Exception:
        log.exception("opening ticket %s failed; the tick retries it", pk)


def redact(text: str, redaction: str) -> str:
    """The customer's words with contact details removed as the destination's setting asks."""
    if redaction == Redaction.NONE:
        return text
    text = EMAIL.sub("[email]", text)
    text = HANDLE.sub("[handle]", text)
    return PHONE.sub("[phone]", text)


def draft_for(ticket: ExternalTicket) -> TicketDraft:
    """What the ticket says: the agent's question, the customer's latest words, the labels."""
    handoff = ticket.handoff
    conversation = handoff.conversation
    organization = conversation.organization
    redaction = ticket.destination.redaction
    inbound = list(
        conversation.messages.filter(direction=Direction.IN)
        .select_related("channel")
        .order_by("-created_at", "-id")[:QUOTED_MESSAGES]
    )[::-1]
    customer = conversation.customer
    if redaction == Redaction.ANONYMOUS or customer is None:
        who = "a customer"
    elif redaction == Redaction.CONTACT:
        who = customer.display_name or "a customer"
    else:
        handles = ", ".join(
            f"@{i.handle} on {i.platform}" for i in customer.identities.exclude(handle="")
        )
        who = f"{customer.display_name} ({handles})" if handles else customer.display_name
    latest = inbound[-1] if inbound else None
    labels = tuple(
        label
        for label in (
            latest.intent if latest else "",
            latest.sentiment if latest else "",
            latest.topic if latest else "",
        )
        if label
    )
    quotes = tuple(
        Quote(
            f"{m.channel.get_kind_display()}, {m.created_at:%Y-%m-%d %H:%M} UTC",
            redact(m.text[:QUOTE_LIMIT], redaction),
        )
        for m in inbound
    )
    base = settings.EARFUL_BASE_URL.rstrip("/")
    return TicketDraft(
        title=f"[{case_reference(organization, conversation.number)}] "
        + handoff.question.splitlines()[0][:80],
        question=handoff.question,
        customer=who,
        quotes=quotes,
        labels=labels,
        reference=case_reference(organization, conversation.number),
        link=f"{base}/o/{organization.slug}/c/{conversation.number}/",
        idempotency_key=ticket.code.hex,
    )


def _claim(ticket: ExternalTicket, now: datetime) -> bool:
    due = Q(state=TicketState.PENDING, next_attempt_at__lte=now) | Q(
        state=TicketState.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    return bool(
        ExternalTicket.objects.filter(due, pk=ticket.pk).update(
            state=TicketState.SENDING, claimed_at=now
        )
    )


def open_ticket(ticket: ExternalTicket, now: datetime) -> bool:
    """Open one due ticket at its destination; False if it failed (it is retried later)."""
    if not _claim(ticket, now):
        return False
    ticket.refresh_from_db()
    destination = ticket.destination
    try:
        opened: OpenedTicket = client_for(destination).open_ticket(draft_for(ticket))
    except OutboundError as exc:
        _failed(ticket, str(exc), now)
        return False
    with transaction.atomic():
        ticket.state, ticket.opened_at, ticket.last_error = TicketState.OPEN, now, ""
        # The link is the platform's, but it is rendered as an href: only web links pass.
        url = opened.url if opened.url.startswith(("https://", "http://")) else ""
        ticket.external_id, ticket.url = opened.external_id, url
        ticket.attempts += 1
        ticket.save(
            update_fields=["state", "opened_at", "last_error", "external_id", "url", "attempts"]
        )
        record_event(
            ticket.organization,
            "handoff.ticket_opened",
            target=ticket.handoff.conversation,
            after={
                "handoff": str(ticket.handoff.code),
                "destination": destination.kind,
                "ticket": opened.external_id,
                "url": url,
            },
        )
    return True


def _failed(ticket: ExternalTicket, error: str, now: datetime) -> None:
    with transaction.atomic():
        ticket.attempts += 1
        ticket.state, ticket.last_error = TicketState.PENDING, error[:1000]
        ticket.next_attempt_at = now + backoff(ticket.attempts)
        ticket.save(update_fields=["attempts", "state", "last_error", "next_attempt_at"])
        record_event(
            ticket.organization,
            "handoff.ticket_failed",
            target=ticket.handoff.conversation,
            after={
                "handoff": str(ticket.handoff.code),
                "destination": ticket.destination.kind,
                "attempts": ticket.attempts,
                "error": ticket.last_error,
                "next_attempt_at": ticket.next_attempt_at.isoformat(),
            },
        )


def open_due_tickets(now: datetime) -> int:
    """Open every ticket that is due (a retry, or one whose opener crashed); returns how many."""
    due = ExternalTicket.objects.filter(
        Q(state=TicketState.PENDING, next_attempt_at__lte=now)
        | Q(state=TicketState.SENDING, claimed_at__lt=now - STALE_CLAIM)
    ).order_by("next_attempt_at", "pk")
    return sum(open_ticket(ticket, now) for ticket in due[:200])
