"""The team inbox over the API: queues, replies, notes, assignment, status, hand-offs, SLA.

Every route calls the same inbox service as the page does.
"""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema

from earful.conversations.access import access_conversation, access_handoff, access_message
from earful.conversations.models import Conversation, Handoff, Note
from earful.errors import DomainError
from earful.inbox import assignment, canned, handoffs, workflow
from earful.inbox.access import access_playbook
from earful.inbox.models import ExternalTicket, LabelCorrection, OutboxItem, SlaClock
from earful.inbox.outbox import retry_dead
from earful.inbox.playbooks import run_playbook
from earful.inbox.queues import QUEUES, Filters, queue, queue_counts
from earful.inbox.replies import send_reply_to_customer
from earful.inbox.tone import check_tone
from earful.org.access import access_department, access_member, access_organization
from earful.org.models import Role

router = Router(tags=["inbox"])
PAGE = 100


class QueueItemOut(Schema):
    number: int
    subject: str
    status: str
    priority: int
    assignee: str | None
    waiting_since: datetime | None
    last_message_at: datetime

    @staticmethod
    def resolve_assignee(obj: Conversation) -> str | None:
        return obj.assignee.email if obj.assignee else None


class QueueOut(Schema):
    queue: str
    counts: dict[str, int]
    conversations: list[QueueItemOut]


class QueueParams(Schema):
    queue: str = "unassigned"
    sort: str = "urgency"
    q: str = ""
    channel: str = ""
    sentiment: str = ""
    intent: str = ""
    language: str = ""
    topic: str = ""
    since: date | None = None


class TextIn(Schema):
    text: str


class ReplyIn(Schema):
    text: str
    parent: str | None = None
    # One of the customer's known addresses: answer privately by email instead.
    email_to: str = ""


class DeliveryOut(Schema):
    status: str
    attempts: int
    next_attempt_at: datetime
    provider_id: str
    last_error: str


class ReplyOut(Schema):
    message: str
    text: str
    private: bool


class PlaybookOut(Schema):
    reply: str | None
    status: str
    priority: int


class AssignIn(Schema):
    assignee: str | None = None


class StatusIn(Schema):
    status: str
    reason: str = ""


class HandoffIn(Schema):
    department: str
    question: str


class AnswerIn(Schema):
    answer: str = ""


class TicketOut(Schema):
    destination: str
    state: str
    external_id: str
    url: str
    attempts: int
    last_error: str
    next_attempt_at: datetime | None

    @staticmethod
    def resolve_destination(obj: ExternalTicket) -> str:
        return obj.destination.kind


class HandoffOut(Schema):
    code: str
    department: str
    status: str
    answer: str
    due_at: datetime | None
    tickets: list[TicketOut]

    @staticmethod
    def resolve_tickets(obj: Handoff) -> list[ExternalTicket]:
        return list(obj.tickets.select_related("destination").order_by("pk"))

    @staticmethod
    def resolve_code(obj: Handoff) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_department(obj: Handoff) -> str:
        return obj.to_department.name


class CorrectionIn(Schema):
    field: str
    value: str


class CorrectionOut(Schema):
    field: str
    old: str
    new: str


class NoteOut(Schema):
    code: str
    text: str

    @staticmethod
    def resolve_code(obj: Note) -> str:
        return str(obj.code)


class ToneFlagOut(Schema):
    category: str
    reason: str
    phrase: str


class ToneOut(Schema):
    ok: bool
    flags: list[ToneFlagOut]
    suggestion: str


class ClockOut(Schema):
    metric: str
    started_at: datetime
    due_at: datetime
    paused: bool
    stopped_at: datetime | None
    met: bool | None

    @staticmethod
    def resolve_paused(obj: SlaClock) -> bool:
        return obj.paused_at is not None


class ConversationStateOut(Schema):
    number: int
    status: str
    assignee: str | None

    @staticmethod
    def resolve_assignee(obj: Conversation) -> str | None:
        return obj.assignee.email if obj.assignee else None


@router.get("/orgs/{org}/inbox", response=QueueOut)
def inbox(request: HttpRequest, org: str, params: Query[QueueParams]) -> dict[str, object]:
    """One queue (unassigned, mine, department, overdue, needs_reply, all) with every count."""
    membership = access_organization(request.user, org)
    if params.queue not in QUEUES:
        raise DomainError(f"no queue {params.queue!r}; one of {', '.join(QUEUES)}")
    now = timezone.now()
    filters = Filters(
        channel=params.channel,
        sentiment=params.sentiment,
        intent=params.intent,
        language=params.language,
        topic=params.topic,
        since=params.since,
        text=params.q,
    )
    found = queue(membership, params.queue, filters, sort=params.sort, now=now)[:PAGE]
    return {
        "queue": params.queue,
        "counts": queue_counts(membership, now),
        "conversations": list(found),
    }


@router.post("/orgs/{org}/conversations/{number}/playbooks/{playbook}", response=PlaybookOut)
def playbook(request: HttpRequest, org: str, number: int, playbook: str) -> dict[str, object]:
    """Run a playbook: its reply, hand-off, priority and status in one step."""
    organization = access_organization(request.user, org).organization
    conversation = access_conversation(organization, number)
    message = run_playbook(
        conversation, access_playbook(organization, playbook), by=request.user, now=timezone.now()
    )
    conversation.refresh_from_db()
    return {
        "reply": str(message.code) if message else None,
        "status": conversation.status,
        "priority": conversation.priority,
    }


@router.post("/orgs/{org}/conversations/{number}/reply", response=ReplyOut)
def reply(request: HttpRequest, org: str, number: int, body: ReplyIn) -> dict[str, object]:
    """Reply to the customer (through the outbox), on the channel of `parent` if given."""
    organization = access_organization(request.user, org).organization
    conversation = access_conversation(organization, number)
    parent = access_message(organization, body.parent) if body.parent else None
    message = send_reply_to_customer(
        conversation,
        body.text,
        by=request.user,
        now=timezone.now(),
        parent=parent,
        email_to=body.email_to,
    )
    return {
        "message": str(message.code),
        "text": message.text,
        "private": message.visibility == "private",
    }


@router.post("/orgs/{org}/conversations/{number}/notes", response=NoteOut)
def note(request: HttpRequest, org: str, number: int, body: TextIn) -> Note:
    """Add an internal note; @mentions are recorded."""
    organization = access_organization(request.user, org).organization
    return workflow.add_note(access_conversation(organization, number), body.text, by=request.user)


@router.post("/orgs/{org}/conversations/{number}/assign", response=ConversationStateOut)
def assign(request: HttpRequest, org: str, number: int, body: AssignIn) -> Conversation:
    """Assign to a member by email, or unassign with null."""
    organization = access_organization(request.user, org).organization
    conversation = access_conversation(organization, number)
    member = access_member(organization, body.assignee) if body.assignee else None
    return assignment.assign(conversation, member, by=request.user)


@router.post("/orgs/{org}/conversations/{number}/status", response=ConversationStateOut)
def status(request: HttpRequest, org: str, number: int, body: StatusIn) -> Conversation:
    """Change the status; resolving an unanswered conversation needs a reason."""
    organization = access_organization(request.user, org).organization
    return workflow.set_status(
        access_conversation(organization, number),
        body.status,
        by=request.user,
        now=timezone.now(),
        reason=body.reason,
    )


@router.post("/orgs/{org}/conversations/{number}/hand-off", response=HandoffOut)
def hand_off(request: HttpRequest, org: str, number: int, body: HandoffIn) -> Handoff:
    """Hand the conversation to a department (by slug) with a note."""
    organization = access_organization(request.user, org).organization
    conversation = access_conversation(organization, number)
    department = access_department(organization, body.department)
    return handoffs.hand_off(
        conversation, department, body.question, by=request.user, now=timezone.now()
    )


@router.get("/orgs/{org}/conversations/{number}/sla", response=list[ClockOut])
def sla(request: HttpRequest, org: str, number: int) -> list[SlaClock]:
    """The conversation's SLA clocks, running and stopped."""
    organization = access_organization(request.user, org).organization
    conversation = access_conversation(organization, number)
    return list(conversation.sla_clocks.order_by("started_at", "pk"))


@router.post("/orgs/{org}/handoffs/{handoff}/fixed", response=HandoffOut)
def fixed(request: HttpRequest, org: str, handoff: str, body: AnswerIn) -> Handoff:
    """The department marks the hand-off fixed; the owner is prompted to report back."""
    organization = access_organization(request.user, org).organization
    found = access_handoff(organization, handoff)
    return handoffs.mark_fixed(found, body.answer, by=request.user, now=timezone.now())


@router.get("/orgs/{org}/handoffs/{handoff}/draft", response=TextIn)
def draft(request: HttpRequest, org: str, handoff: str) -> dict[str, str]:
    """The drafted "it's fixed" reply for a hand-off."""
    organization = access_organization(request.user, org).organization
    return {"text": handoffs.report_back_draft(access_handoff(organization, handoff))}


@router.post("/orgs/{org}/handoffs/{handoff}/report-back", response=ReplyOut)
def report_back(request: HttpRequest, org: str, handoff: str, body: TextIn) -> dict[str, object]:
    """Send the report back to the customer and close the hand-off."""
    organization = access_organization(request.user, org).organization
    found = access_handoff(organization, handoff)
    message = handoffs.report_back(found, body.text, by=request.user, now=timezone.now())
    return {
        "message": str(message.code),
        "text": message.text,
        "private": message.visibility == "private",
    }


@router.post("/orgs/{org}/messages/{message}/corrections", response=CorrectionOut)
def correct(request: HttpRequest, org: str, message: str, body: CorrectionIn) -> LabelCorrection:
    """Correct a triage label (sentiment or intent); kept for retraining."""
    organization = access_organization(request.user, org).organization
    return canned.correct_label(
        access_message(organization, message), body.field, body.value, by=request.user
    )


@router.post("/orgs/{org}/tone", response=ToneOut)
def tone(request: HttpRequest, org: str, body: TextIn) -> dict[str, object]:
    """The tone guard's verdict on a draft."""
    access_organization(request.user, org)
    result = check_tone(body.text[:10000])
    return {"ok": result.ok, "flags": list(result.flags), "suggestion": result.suggestion}


@router.post("/orgs/{org}/auto-assign", response=list[ConversationStateOut])
def auto_assign(request: HttpRequest, org: str) -> list[Conversation]:
    """Managers and admins run fair auto-assignment over the unassigned queue."""
    membership = access_organization(request.user, org)
    if membership.role not in (Role.ADMIN, Role.MANAGER):
        raise DomainError("only managers and admins run auto-assignment")
    return assignment.auto_assign(membership.organization, now=timezone.now())


@router.get("/orgs/{org}/messages/{message}/delivery", response=list[DeliveryOut])
def delivery(request: HttpRequest, org: str, message: str) -> list[OutboxItem]:
    """Where our reply is in the outbox (empty for a customer's message): attempts, errors."""
    organization = access_organization(request.user, org).organization
    return list(OutboxItem.objects.filter(message=access_message(organization, message)))


@router.post("/orgs/{org}/messages/{message}/retry", response=DeliveryOut)
def retry(request: HttpRequest, org: str, message: str) -> OutboxItem:
    """Put a dead letter back in the outbox after its cause was fixed."""
    organization = access_organization(request.user, org).organization
    item = get_object_or_404(OutboxItem, message=access_message(organization, message))
    return retry_dead(item, now=timezone.now())
