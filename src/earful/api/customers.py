"""Customers over the API: their story, merges and unmerges, and link suggestions."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Router, Schema

from earful.customers import linking, merging
from earful.customers.access import access_customer, access_merge, access_suggestion
from earful.customers.models import (
    Customer,
    CustomerMerge,
    LinkKind,
    LinkSuggestion,
    SuggestionStatus,
)
from earful.customers.story import sentiment_trend, timeline, turnaround
from earful.errors import DomainError
from earful.org.access import access_organization

router = Router(tags=["customers"])


class IdentityOut(Schema):
    platform: str
    handle: str
    display_name: str
    profile_url: str
    audience_size: int | None
    how_linked: str


class TurnaroundOut(Schema):
    started_negative: bool
    engaged_at: datetime | None
    turned_at: datetime | None
    hours_to_turn: float | None


class CustomerOut(Schema):
    code: str
    display_name: str
    merged_into: str | None
    identities: list[IdentityOut]
    messages: int
    sentiment_trend: list[tuple[date, float]]
    turnaround: TurnaroundOut

    @staticmethod
    def resolve_code(obj: Customer) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_merged_into(obj: Customer) -> str | None:
        return str(obj.merged_into.code) if obj.merged_into else None

    @staticmethod
    def resolve_identities(obj: Customer) -> list[object]:
        return list(obj.identities.order_by("platform", "handle"))

    @staticmethod
    def resolve_messages(obj: Customer) -> int:
        return timeline(obj).count()

    @staticmethod
    def resolve_sentiment_trend(obj: Customer) -> list[tuple[date, float]]:
        return sentiment_trend(obj)

    @staticmethod
    def resolve_turnaround(obj: Customer) -> object:
        return turnaround(obj)


class MergeOut(Schema):
    code: str
    source: str
    target: str
    rule: str
    undone_at: datetime | None

    @staticmethod
    def resolve_code(obj: CustomerMerge) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_source(obj: CustomerMerge) -> str:
        return str(obj.source.code)

    @staticmethod
    def resolve_target(obj: CustomerMerge) -> str:
        return str(obj.target.code)


class SuggestionOut(Schema):
    code: str
    first: str
    second: str
    rule: str
    evidence: str
    score: float
    status: str

    @staticmethod
    def resolve_code(obj: LinkSuggestion) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_first(obj: LinkSuggestion) -> str:
        return str(obj.first.code)

    @staticmethod
    def resolve_second(obj: LinkSuggestion) -> str:
        return str(obj.second.code)


@router.get("/orgs/{org}/customers/{customer}", response=CustomerOut)
def customer(request: HttpRequest, org: str, customer: str) -> Customer:
    """A customer's identities, mood over time and whether they turned after we engaged."""
    organization = access_organization(request.user, org).organization
    return access_customer(organization, customer)


@router.post("/orgs/{org}/customers/{customer}/merge-into/{target}", response=MergeOut)
def merge(request: HttpRequest, org: str, customer: str, target: str) -> CustomerMerge:
    """Merge this customer into another (one person); undo with the merge's code."""
    organization = access_organization(request.user, org).organization
    return merging.merge_customers(
        access_customer(organization, customer),
        access_customer(organization, target),
        rule=LinkKind.AGENT,
        by=request.user,
    )


@router.post("/orgs/{org}/merges/{merge}/undo", response=MergeOut)
def unmerge(request: HttpRequest, org: str, merge: str) -> CustomerMerge:
    """Undo a customer merge: what moved goes back."""
    organization = access_organization(request.user, org).organization
    found = access_merge(organization, merge)
    merging.unmerge_customers(found, by=request.user)
    found.refresh_from_db()
    return found


@router.get("/orgs/{org}/link-suggestions", response=list[SuggestionOut])
def suggestions(request: HttpRequest, org: str) -> list[LinkSuggestion]:
    """Pending suggestions that two customers are one person, most likely first."""
    organization = access_organization(request.user, org).organization
    return list(
        LinkSuggestion.objects.filter(organization=organization, status=SuggestionStatus.PENDING)
        .select_related("first", "second")
        .order_by("-score", "id")[:200]
    )


@router.post("/orgs/{org}/link-suggestions/{suggestion}/{decision}", response=SuggestionOut)
def decide(request: HttpRequest, org: str, suggestion: str, decision: str) -> LinkSuggestion:
    """Confirm (merge the two) or reject (keep them apart) a suggestion."""
    organization = access_organization(request.user, org).organization
    found = access_suggestion(organization, suggestion)
    if decision not in ("confirm", "reject"):
        raise DomainError("decide with confirm or reject")
    linking.decide_suggestion(found, confirm=decision == "confirm", by=request.user)
    found.refresh_from_db()
    return found
