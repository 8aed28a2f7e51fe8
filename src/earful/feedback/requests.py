"""Honest-answer requests: one open question after service, answered through a personal link.

A customer gets at most one request per `Board.request_interval_days` (30 by default) and
none after they unsubscribe. The answer is free text first (an optional 1-5 scale after it,
never instead) and enters the pipeline as a board message, so it is triaged like any other.
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.db import transaction
from django.urls import reverse

from earful.channels.records import Author
from earful.conversations.models import Conversation, Direction, Message
from earful.conversations.threading import refresh_conversations
from earful.customers.models import Customer, Identity, LinkKind
from earful.customers.services import resolve_identities
from earful.errors import DomainError
from earful.feedback.board import EMAIL, MAX_TEXT, PLATFORM, board_for, ingest_board_message
from earful.feedback.delivery import directory_for, email_of, fit, route_to, write
from earful.feedback.models import Board, FeedbackOptOut, FeedbackRequest
from earful.org.events import record_event
from earful.org.models import Organization


@dataclass(frozen=True)
class Outcome:
    """What became of one request: sent, or skipped with the reason."""

    request: FeedbackRequest | None
    skipped: str = ""


def _link(board: Board, name: str, token: str) -> str:
    path = reverse(f"feedback:{name}", kwargs={"board": board.slug, "token": token})
    return board.public_url.rstrip("/") + path


def _skip_reason(board: Board, customer: Customer, now: datetime) -> str:
    if FeedbackOptOut.objects.filter(
        organization_id=board.organization_id, customer=customer
    ).exists():
        return "unsubscribed from feedback requests"
    since = now - timedelta(days=board.request_interval_days)
    last = (
        FeedbackRequest.objects.filter(
            organization_id=board.organization_id, customer=customer, sent_at__gt=since
        )
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    if last is not None:
        days = board.request_interval_days
        return f"already asked on {last:%Y-%m-%d} (at most one request per {days} days)"
    return ""


@transaction.atomic
def request_feedback(
    customer: Customer,
    *,
    now: datetime,
    conversation: Conversation | None = None,
    reference: str = "",
) -> Outcome:
    """Ask the customer one open question on their channel, unless a rule says not to."""
    board = board_for(customer.organization)
    # The customer row is locked so two resolutions at once cannot both send.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    reason = _skip_reason(board, customer, now)
    if reason:
        return Outcome(None, reason)
    parent = None
    if conversation is not None:
        parent = (
            conversation.messages.filter(direction=Direction.IN)
            .select_related("channel")
            .order_by("-created_at", "-id")
            .first()
        )
    directory = directory_for(customer.organization_id, [customer.pk])
    route = route_to(customer.pk, parent, directory, private=True)
    if route is None:
        return Outcome(None, "no channel reaches this customer (no email channel or address)")
    token = secrets.token_urlsafe(24)
    answer, stop = _link(board, "answer", token), _link(board, "unsubscribe", token)
    text = fit(
        f"{board.request_question}\n\nAnswer in your own words: {answer}\n\n"
        f"No more questions like this: {stop}",
        route.limit,
        f"How did we do? In your own words: {answer}",
    )
    message = write(route, text, now=now)
    request = FeedbackRequest.objects.create(
        organization_id=customer.organization_id,
        customer=customer,
        conversation=conversation,
        reference=reference.strip()[:200],
        channel=route.channel,
        token=token,
        question=board.request_question,
        sent_message=message,
        sent_at=now,
    )
    if message.conversation_id is not None:
        refresh_conversations({message.conversation_id})
    record_event(
        customer.organization,
        "feedback.requested",
        target=customer,
        after={"request": str(request.code), "channel": route.channel.name, "reference": reference},
    )
    return Outcome(request)


def after_resolved(conversation: Conversation, *, now: datetime) -> Outcome | None:
    """The inbox's hook: ask for an honest answer when the organization switched it on."""
    board = Board.objects.filter(organization_id=conversation.organization_id).first()
    if board is None or not board.request_after_resolve or conversation.customer is None:
        return None
    return request_feedback(conversation.customer, now=now, conversation=conversation)


def customer_by_email(organization: Organization, email: str, name: str = "") -> Customer:
    """The customer known by this address (any channel), or a new email customer."""
    email = email.strip().lower()
    if not EMAIL.fullmatch(email):
        raise DomainError(f"{email[:80]!r} is not an email address")
    known = (
        Identity.objects.filter(organization=organization, external_id=email)
        .select_related("customer")
        .order_by("pk")
        .first()
    ) or (
        Identity.objects.filter(organization=organization, verified_email=email)
        .select_related("customer")
        .order_by("pk")
        .first()
    )
    if known is not None:
        return known.customer
    author = Author(external_id=email, handle=email, display_name=name.strip()[:200])
    return resolve_identities(organization, "email", [author]).by_external_id[email].customer


def _board_author(customer: Customer) -> Identity:
    """The customer's identity on the board, made from the personal link if they have none."""
    found = Identity.objects.filter(customer=customer, platform=PLATFORM).order_by("pk").first()
    if found is not None:
        return found
    # The personal link proves who answers, as a confirmed link between accounts does.
    external_id = email_of(customer) or f"customer-{customer.code}"
    identity, _ = Identity.objects.get_or_create(
        organization_id=customer.organization_id,
        platform=PLATFORM,
        external_id=external_id,
        defaults={
            "customer": customer,
            "display_name": customer.display_name,
            "how_linked": LinkKind.CUSTOMER_CONFIRMED,
        },
    )
    return identity


@transaction.atomic
def answer_request(request: FeedbackRequest, text: str, scale: int | None = None) -> Message:
    """Store the customer's answer as a board message (triaged), once per request."""
    request = FeedbackRequest.objects.select_for_update().get(pk=request.pk)
    if request.answered_at is not None:
        raise DomainError("you have already answered; thank you")
    text = text.strip()
    if not text:
        raise DomainError("please write your answer in your own words first")
    if len(text) > MAX_TEXT:
        raise DomainError(f"please keep it under {MAX_TEXT:,} characters")
    if scale is not None and not 1 <= scale <= 5:
        raise DomainError("the scale goes from 1 to 5")
    board = board_for(request.organization)
    identity = _board_author(request.customer)
    message = ingest_board_message(
        board,
        f"board-answer-{request.code}",
        text,
        {"external_id": identity.external_id, "display_name": identity.display_name},
        {"via": "feedback_request", "request": str(request.code), "scale": scale},
    )
    request.answered_at, request.answer, request.scale = message.created_at, message, scale
    request.save(update_fields=["answered_at", "answer", "scale"])
    record_event(
        request.organization,
        "feedback.answered",
        target=request.customer,
        after={"request": str(request.code), "scale": scale},
    )
    return message


@transaction.atomic
def unsubscribe(request: FeedbackRequest) -> FeedbackOptOut:
    """Honour the customer's wish: no more feedback requests, on any channel."""
    opt_out, created = FeedbackOptOut.objects.get_or_create(
        organization_id=request.organization_id, customer=request.customer
    )
    if created:
        record_event(request.organization, "feedback.unsubscribed", target=request.customer)
    return opt_out


@dataclass(frozen=True)
class Visit:
    """One visit or order from a CSV file or the API: whom to ask, about what."""

    email: str
    name: str = ""
    reference: str = ""


def visits_from_csv(path: Path) -> Iterator[tuple[int, Visit]]:
    """(line number, visit) of each row of a CSV with columns email, name, reference."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "email" not in reader.fieldnames:
            raise DomainError("the file needs a header row with an 'email' column")
        for number, row in enumerate(reader, start=2):
            yield (
                number,
                Visit(
                    email=(row.get("email") or "")[:254],
                    name=(row.get("name") or "")[:200],
                    reference=(row.get("reference") or "")[:200],
                ),
            )


def request_for_visits(
    organization: Organization, visits: Iterable[Visit], *, now: datetime
) -> list[Outcome]:
    """Ask each visit's customer (one request per customer, rate limits honoured)."""
    outcomes = []
    for visit in visits:
        try:
            customer = customer_by_email(organization, visit.email, visit.name)
        except DomainError as exc:
            outcomes.append(Outcome(None, str(exc)))
            continue
        outcomes.append(request_feedback(customer, now=now, reference=visit.reference))
    return outcomes
