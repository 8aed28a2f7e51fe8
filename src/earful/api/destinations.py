"""Departments' outside destinations over the API: list, add, check, remove.

The same services as the departments page; credentials go in and never come back out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from earful.inbox import tickets
from earful.inbox.access import access_destination, managing_destinations
from earful.inbox.models import Destination, Redaction
from earful.org.access import access_department, access_organization

router = Router(tags=["destinations"])


class DestinationIn(Schema):
    kind: str
    settings: dict[str, Any]
    redaction: str = Redaction.CONTACT


class DestinationOut(Schema):
    code: str
    department: str
    kind: str
    redaction: str
    enabled: bool
    webhook_path: str
    last_check: str
    last_check_ok: bool | None
    last_check_at: datetime | None

    @staticmethod
    def resolve_code(obj: Destination) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_department(obj: Destination) -> str:
        return obj.department.slug

    @staticmethod
    def resolve_webhook_path(obj: Destination) -> str:
        return f"/hooks/destinations/{obj.code}/"


@router.get("/orgs/{org}/destinations", response=list[DestinationOut])
def list_destinations(request: HttpRequest, org: str) -> list[Destination]:
    """Every department's destinations."""
    organization = access_organization(request.user, org).organization
    return list(
        Destination.objects.filter(organization=organization)
        .select_related("department")
        .order_by("department__slug", "kind")
    )


@router.post("/orgs/{org}/departments/{department}/destinations", response=DestinationOut)
def add_destination(
    request: HttpRequest, org: str, department: str, body: DestinationIn
) -> Destination:
    """Reach a department (by slug) through a tracker or chat room as well."""
    organization = managing_destinations(request.user, org).organization
    found = access_department(organization, department)
    return tickets.add_destination(
        found, body.kind, body.settings, redaction=body.redaction, by=request.user
    )


@router.post("/orgs/{org}/destinations/{destination}/check", response=DestinationOut)
def check_destination(request: HttpRequest, org: str, destination: str) -> Destination:
    """Try the destination's credentials now; the answer is in `last_check`."""
    organization = managing_destinations(request.user, org).organization
    found = access_destination(organization, destination)
    tickets.check_destination(found, timezone.now(), by=request.user)
    return found


@router.delete("/orgs/{org}/destinations/{destination}", response={204: None})
def remove_destination(request: HttpRequest, org: str, destination: str) -> None:
    """Stop reaching the department there."""
    organization = managing_destinations(request.user, org).organization
    tickets.remove_destination(access_destination(organization, destination), by=request.user)
