"""What departments do at their destinations, back in earful: webhooks, polling, updates.

A destination's signed webhooks (or polling, where webhooks cannot reach earful) come back
as tracker updates that move the hand-off (acknowledged, in progress, fixed, won't fix) and
add the department's comments as internal notes; "fixed" prompts the owning agent with the
drafted report-back, as when a department inside earful marks it fixed. A forged, stale or
replayed webhook is refused and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from django.db import IntegrityError, transaction

from earful.channels.http import OutboundError
from earful.conversations.models import TO_REPORT_BACK, WITH_DEPARTMENT, Handoff, HandoffStatus
from earful.inbox import handoffs
from earful.inbox.destinations import ConnectorError, TrackerUpdate, WebhookRejectedError
from earful.inbox.models import Destination, ExternalTicket, TicketState, TrackerDelivery
from earful.inbox.tickets import client_for
from earful.inbox.workflow import add_note
from earful.org.events import record_event

log = logging.getLogger(__name__)
STATE_EVENTS = {
    HandoffStatus.ACKNOWLEDGED: "handoff.acknowledged",
    HandoffStatus.IN_PROGRESS: "handoff.in_progress",
}


def receive_webhook(
    destination: Destination, headers: Mapping[str, str], body: bytes, now: datetime
) -> int:
    """Verify a destination's webhook and apply its updates; returns how many applied.

    A forged, stale or replayed delivery is refused with WebhookRejectedError and logged.
    """
    client = client_for(destination)
    try:
        delivery = client.verify(headers, body, now)
        with transaction.atomic():
            TrackerDelivery.objects.create(destination=destination, digest=delivery)
    except (WebhookRejectedError, IntegrityError) as exc:
        reason = str(exc) if isinstance(exc, WebhookRejectedError) else "a replay of a delivery"
        record_event(
            destination.organization,
            "destination.webhook_rejected",
            target=destination,
            after={"kind": destination.kind, "reason": reason},
        )
        log.warning("rejected a %s webhook for %s: %s", destination.kind, destination.pk, reason)
        raise WebhookRejectedError(reason) from None
    return sum(apply_update(destination, update, now) for update in client.updates(headers, body))


def _ticket(destination: Destination, external_id: str) -> ExternalTicket | None:
    return (
        ExternalTicket.objects.filter(destination=destination, external_id=external_id)
        .select_related("handoff__conversation__organization", "handoff__to_department")
        .first()
    )


@transaction.atomic
def apply_update(destination: Destination, update: TrackerUpdate, now: datetime) -> bool:
    """Move the ticket's hand-off as the department did at the destination; comments become
    internal notes. Returns whether anything changed (unknown tickets change nothing)."""
    ticket = _ticket(destination, update.external_id)
    if ticket is None:
        return False
    handoff = Handoff.objects.select_for_update().get(pk=ticket.handoff_id)
    where = f"{destination.get_kind_display()} {ticket.external_id}"
    changed = False
    if update.comment.strip():
        by = f"{update.author} on {where}" if update.author else where
        add_note(handoff.conversation, f"{by}: {update.comment.strip()}", by=None)
        changed = True
    state = update.state
    if state in (HandoffStatus.FIXED, HandoffStatus.WONT_FIX) and handoff.status in WITH_DEPARTMENT:
        answer = update.comment.strip() or f"Closed in {where}"
        handoffs.close_from_outside(handoff, state, answer, via=where, now=now)
        return True
    if state in STATE_EVENTS and _moves_forward(handoff.status, state):
        before = handoff.status
        handoff.status = state
        handoff.save(update_fields=["status"])
        record_event(
            handoff.organization,
            STATE_EVENTS[HandoffStatus(state)],
            target=handoff.conversation,
            before={"status": before},
            after={"handoff": str(handoff.code), "via": where, "by": update.author},
        )
        return True
    return changed


def _moves_forward(current: str, new: str) -> bool:
    if new == HandoffStatus.ACKNOWLEDGED:
        return current == HandoffStatus.OPEN
    # Reopened at the tracker before the customer was told: the department works on it again.
    return current in WITH_DEPARTMENT + TO_REPORT_BACK and current != HandoffStatus.IN_PROGRESS


def _polled(destination: Destination) -> bool:
    # The kind's default counts, not only a stored key: Matrix polls unless told not to.
    try:
        return bool(getattr(client_for(destination).settings, "poll", False))
    except ConnectorError:
        return False


def poll_destinations(now: datetime) -> int:
    """Ask the destinations that are polled for updates to their open tickets."""
    applied = 0
    for destination in Destination.objects.filter(enabled=True).order_by("pk"):
        if not _polled(destination):
            continue
        open_ids = list(
            ExternalTicket.objects.filter(
                destination=destination,
                state=TicketState.OPEN,
                handoff__status__in=WITH_DEPARTMENT + TO_REPORT_BACK,
            ).values_list("external_id", flat=True)
        )
        if not open_ids:
            continue
        try:
            updates, cursor = client_for(destination).poll(open_ids, destination.cursor)
        except OutboundError as exc:
            log.warning("polling %s destination %s: %s", destination.kind, destination.pk, exc)
            continue
        applied += sum(apply_update(destination, update, now) for update in updates)
        destination.cursor = cursor
        destination.save(update_fields=["cursor"])
    return applied
