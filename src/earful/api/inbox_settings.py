"""The inbox's settings over the API: the SLA policy and canned replies (managers, admins)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from earful.errors import DomainError
from earful.inbox import assignment, canned
from earful.inbox.models import CannedReply, SlaPolicy
from earful.inbox.sla import policy_for, save_policy
from earful.org.access import access_organization
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
    text: str


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


@router.get("/orgs/{org}/canned-replies", response=list[CannedIo])
def list_canned(request: HttpRequest, org: str) -> list[CannedReply]:
    """The organization's canned replies, by name."""
    organization = access_organization(request.user, org).organization
    return list(CannedReply.objects.filter(organization=organization).order_by("name"))


@router.post("/orgs/{org}/canned-replies", response=CannedIo)
def save_canned(request: HttpRequest, org: str, body: CannedIo) -> CannedReply:
    """Create or update a canned reply; {customer_name}, {case_reference}... are filled in."""
    membership = _manager(request, org)
    return canned.save_canned_reply(membership.organization, body.name, body.text, by=request.user)


@router.put("/orgs/{org}/availability", response=AvailabilityIo)
def availability(request: HttpRequest, org: str, body: AvailabilityIo) -> Membership:
    """Mark yourself present or absent for auto-assignment."""
    membership = access_organization(request.user, org)
    return assignment.set_availability(membership, body.available, by=request.user)
