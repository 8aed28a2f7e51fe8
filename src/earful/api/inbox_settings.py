"""The inbox's settings over the API: the SLA policy and canned replies (managers, admins)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from earful.errors import DomainError
from earful.inbox import assignment, canned
from earful.inbox.models import CannedReply, SlaPolicy
from earful.inbox.retraining import Retrained, retrain_organization
from earful.inbox.sla import policy_for, save_policy
from earful.org.access import access_department, access_organization
from earful.org.models import Membership, Role

router = Router(tags=["inbox settings"])


class PolicyIo(Schema):
    first_response_minutes: int
    next_response_minutes: int
    resolution_minutes: int
    business_hours_only: bool
    timezone: str
    day_start_hour: int
    day_end_hour: int
    weekdays: str


class AvailabilityIo(Schema):
    available: bool


class CannedIo(Schema):
    name: str
    text: str = ""
    handoff_to: str = ""  # a department's slug
    handoff_question: str = ""
    set_priority: int | None = None
    set_status: str = ""


class CannedOut(CannedIo):
    code: str

    @staticmethod
    def resolve_code(obj: CannedReply) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_handoff_to(obj: CannedReply) -> str:
        return obj.handoff_to.slug if obj.handoff_to else ""


def _manager(request: HttpRequest, org: str) -> Membership:
    membership = access_organization(request.user, org)
    if membership.role not in (Role.ADMIN, Role.MANAGER):
        raise DomainError("only managers and admins change inbox settings")
    return membership


@router.get("/orgs/{org}/sla-policy", response=PolicyIo)
def get_policy(request: HttpRequest, org: str) -> SlaPolicy:
    """The organization's SLA policy (the defaults until one is saved)."""
    return policy_for(access_organization(request.user, org).organization)


@router.put("/orgs/{org}/sla-policy", response=PolicyIo)
def put_policy(request: HttpRequest, org: str, body: PolicyIo) -> SlaPolicy:
    """Replace the organization's SLA policy."""
    membership = _manager(request, org)
    return save_policy(membership.organization, by=request.user, **body.dict())


@router.get("/orgs/{org}/canned-replies", response=list[CannedOut])
def list_canned(request: HttpRequest, org: str) -> list[CannedReply]:
    """The organization's canned replies, by name."""
    organization = access_organization(request.user, org).organization
    return list(
        CannedReply.objects.filter(organization=organization)
        .select_related("handoff_to")
        .order_by("name")
    )


@router.post("/orgs/{org}/canned-replies", response=CannedOut)
def save_canned(request: HttpRequest, org: str, body: CannedIo) -> CannedReply:
    """Create or update a canned reply or playbook; {customer_name}, {case_reference}... fill in."""
    membership = _manager(request, org)
    organization = membership.organization
    return canned.save_canned_reply(
        organization,
        body.name,
        body.text,
        by=request.user,
        handoff_to=access_department(organization, body.handoff_to) if body.handoff_to else None,
        handoff_question=body.handoff_question,
        set_priority=body.set_priority,
        set_status=body.set_status,
    )


@router.put("/orgs/{org}/availability", response=AvailabilityIo)
def availability(request: HttpRequest, org: str, body: AvailabilityIo) -> Membership:
    """Mark yourself present or absent for auto-assignment."""
    membership = access_organization(request.user, org)
    return assignment.set_availability(membership, body.available, by=request.user)


class RetrainedOut(Schema):
    base: str
    corrections: int
    skipped: int


@router.post("/orgs/{org}/triage/retrain", response=RetrainedOut)
def retrain(request: HttpRequest, org: str) -> Retrained:
    """Retrain the organization's triage model on its team's label corrections (managers)."""
    membership = _manager(request, org)
    return retrain_organization(membership.organization, by=request.user)
