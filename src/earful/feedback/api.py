"""The feedback REST API: thin routes over the feedback services."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.security import django_auth

from earful.conversations.access import access_conversation, access_message
from earful.errors import DomainError
from earful.feedback import board as board_services
from earful.feedback import ideas as idea_services
from earful.feedback import queries
from earful.feedback.access import access_idea
from earful.feedback.models import Idea, IdeaSupporter
from earful.feedback.requests import customer_by_email, request_feedback
from earful.org.access import access_organization

router = Router(tags=["feedback"], auth=django_auth)
PAGE = 100


class IdeaOut(Schema):
    number: int
    title: str
    details: str
    status: str
    public_response: str
    visibility: str
    supporters: int
    duplicate_of: int | None
    created_at: datetime
    shipped_at: datetime | None

    @staticmethod
    def resolve_supporters(obj: Idea) -> int:
        return int(getattr(obj, "votes", None) or obj.supporters.count())

    @staticmethod
    def resolve_duplicate_of(obj: Idea) -> int | None:
        return obj.duplicate_of.number if obj.duplicate_of else None


class IdeaIn(Schema):
    title: str
    details: str = ""


class PersonIn(Schema):
    name: str
    email: str


class StatusIn(Schema):
    status: str
    response: str | None = None


class LinkIn(Schema):
    message: str


class SupporterOut(Schema):
    customer: str
    how: str
    notified_at: datetime | None

    @staticmethod
    def resolve_customer(obj: IdeaSupporter) -> str:
        return str(obj.customer.code)


class RequestIn(Schema):
    # Either a resolved conversation's number, or a visit/order's customer by email.
    conversation: int | None = None
    email: str = ""
    name: str = ""
    reference: str = ""


class RequestOut(Schema):
    sent: bool
    skipped: str
    code: str | None


@router.get("/orgs/{org}/ideas", response=list[IdeaOut])
def list_ideas(request: HttpRequest, org: str, status: str = "") -> list[Idea]:
    """The organization's ideas, most supported first."""
    organization = access_organization(request.user, org).organization
    return list(queries.staff_ideas(organization, status).select_related("duplicate_of")[:PAGE])


@router.post("/orgs/{org}/ideas", response=IdeaOut)
def create_idea(request: HttpRequest, org: str, body: IdeaIn) -> Idea:
    """Open an idea as staff."""
    organization = access_organization(request.user, org).organization
    return idea_services.create_idea(organization, body.title, body.details, by=request.user)


@router.get("/orgs/{org}/ideas/{idea}", response=IdeaOut)
def get_idea(request: HttpRequest, org: str, idea: int) -> Idea:
    """One idea."""
    organization = access_organization(request.user, org).organization
    return access_idea(organization, idea)


@router.get("/orgs/{org}/ideas/{idea}/supporters", response=list[SupporterOut])
def supporters(request: HttpRequest, org: str, idea: int) -> list[IdeaSupporter]:
    """Who supports the idea, how, and when they were told it shipped."""
    organization = access_organization(request.user, org).organization
    return list(queries.supporters_of(access_idea(organization, idea)))


@router.post("/orgs/{org}/ideas/{idea}/votes", response=SupporterOut)
def vote(request: HttpRequest, org: str, idea: int, body: PersonIn) -> IdeaSupporter:
    """Record a vote given elsewhere (a phone call, a shop counter) for a named customer."""
    organization = access_organization(request.user, org).organization
    found = access_idea(organization, idea)
    return board_services.vote(found, board_services.checked_person(body.name, body.email))


@router.post("/orgs/{org}/ideas/{idea}/status", response=IdeaOut)
def set_status(request: HttpRequest, org: str, idea: int, body: StatusIn) -> Idea:
    """Set the status and public response; shipping tells every supporter once."""
    organization = access_organization(request.user, org).organization
    found = access_idea(organization, idea)
    return idea_services.set_status(
        found, body.status, by=request.user, now=timezone.now(), response=body.response
    )


@router.post("/orgs/{org}/ideas/{idea}/merge-into/{into}", response=IdeaOut)
def merge(request: HttpRequest, org: str, idea: int, into: int) -> Idea:
    """Merge a duplicate into another idea; supporters move, each person counted once."""
    organization = access_organization(request.user, org).organization
    source, target = access_idea(organization, idea), access_idea(organization, into)
    return idea_services.merge_ideas(source, target, by=request.user)


@router.post("/orgs/{org}/ideas/{idea}/links", response=SupporterOut)
def link(request: HttpRequest, org: str, idea: int, body: LinkIn) -> IdeaSupporter:
    """Link a customer's message to the idea; its author becomes a supporter."""
    organization = access_organization(request.user, org).organization
    found = access_idea(organization, idea)
    return idea_services.link_message(
        access_message(organization, body.message), found, by=request.user
    )


@router.post("/orgs/{org}/feedback-requests", response=RequestOut)
def feedback_request(request: HttpRequest, org: str, body: RequestIn) -> RequestOut:
    """Ask one customer an open question: after a conversation, or after a visit or order."""
    organization = access_organization(request.user, org).organization
    now = timezone.now()
    if body.conversation is not None:
        conversation = access_conversation(organization, body.conversation)
        if conversation.customer is None:
            raise DomainError("this conversation has no customer to ask")
        outcome = request_feedback(
            conversation.customer, now=now, conversation=conversation, reference=body.reference
        )
    elif body.email:
        customer = customer_by_email(organization, body.email, body.name)
        outcome = request_feedback(customer, now=now, reference=body.reference)
    else:
        raise DomainError("give a conversation number or the customer's email")
    sent = outcome.request
    return RequestOut(
        sent=sent is not None, skipped=outcome.skipped, code=str(sent.code) if sent else None
    )
