"""The insights REST API: thin routes over the insights services."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.security import django_auth

from earful.errors import DomainError
from earful.insights import dashboard as boards
from earful.insights import webhooks
from earful.insights.access import access_endpoint
from earful.insights.filters import parse_window
from earful.insights.models import Alert, WebhookEndpoint
from earful.insights.scorecard import scorecard
from earful.insights.services import recent_alerts, save_settings
from earful.insights.social import insight_settings
from earful.insights.tables import Cell
from earful.org.access import access_organization
from earful.org.models import Membership, Role

router = Router(tags=["insights"], auth=django_auth)


class WindowParams(Schema):
    start: str = ""
    end: str = ""
    channel: str = ""


class TableOut(Schema):
    slug: str
    title: str
    start: datetime
    end: datetime
    columns: list[str]
    rows: list[list[Cell]]
    note: str


class ScoreOut(Schema):
    section: str
    name: str
    value: str
    status: str
    meaning: str
    todo: str


class AlertOut(Schema):
    code: str
    kind: str
    summary: str
    observed: float
    usual: float
    created_at: datetime
    messages: list[str]

    @staticmethod
    def resolve_code(obj: Alert) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_messages(obj: Alert) -> list[str]:
        return [str(m.code) for m in obj.messages.all()]


class WebhookIn(Schema):
    url: str
    verbs: list[str] = []


class WebhookOut(Schema):
    code: str
    url: str
    verbs: list[str]
    enabled: bool

    @staticmethod
    def resolve_code(obj: WebhookEndpoint) -> str:
        return str(obj.code)


class NewWebhookOut(WebhookOut):
    # Shown once, when the endpoint is made: the receiver needs it to check signatures.
    secret: str


class SettingsIn(Schema):
    promo_threshold: float | None = None
    ageing_hours: int | None = None
    spread_replies: int | None = None


class SettingsOut(Schema):
    promo_threshold: float
    ageing_hours: int
    spread_replies: int


def _manager(request: HttpRequest, org: str) -> Membership:
    membership = access_organization(request.user, org)
    if membership.role not in (Role.ADMIN, Role.MANAGER):
        raise DomainError("only managers and admins change alerts and webhooks")
    return membership


@router.get("/orgs/{org}/insights/tables", response=list[str])
def table_names(request: HttpRequest, org: str) -> list[str]:
    """The names of every insight table."""
    access_organization(request.user, org)
    return list(boards.TABLES)


@router.get("/orgs/{org}/insights/tables/{table}", response=TableOut)
def table(
    request: HttpRequest, org: str, table: str, params: Query[WindowParams]
) -> dict[str, object]:
    """One insight table over a date range (default: the last 30 days) and channel."""
    membership = access_organization(request.user, org)
    now = timezone.now()
    window = parse_window(
        membership.organization, now, start=params.start, end=params.end, channel=params.channel
    )
    found = boards.table(table, window, now)
    return {
        "slug": found.slug,
        "title": found.title,
        "start": window.start,
        "end": window.end,
        "columns": list(found.columns),
        "rows": found.rows,
        "note": found.note,
    }


@router.get("/orgs/{org}/insights/scorecard", response=list[ScoreOut])
def scorecard_route(request: HttpRequest, org: str, params: Query[WindowParams]) -> list[object]:
    """The social-business scorecard."""
    membership = access_organization(request.user, org)
    now = timezone.now()
    window = parse_window(
        membership.organization, now, start=params.start, end=params.end, channel=params.channel
    )
    return list(scorecard(window, now))


@router.get("/orgs/{org}/insights/alerts", response=list[AlertOut])
def alerts(request: HttpRequest, org: str) -> list[Alert]:
    """The latest alerts, newest first."""
    return list(recent_alerts(access_organization(request.user, org).organization))


@router.get("/orgs/{org}/insights/webhooks", response=list[WebhookOut])
def list_webhooks(request: HttpRequest, org: str) -> list[WebhookEndpoint]:
    """The organization's webhook endpoints."""
    organization = access_organization(request.user, org).organization
    return list(WebhookEndpoint.objects.filter(organization=organization).order_by("pk"))


@router.post("/orgs/{org}/insights/webhooks", response={201: NewWebhookOut})
def add_webhook(request: HttpRequest, org: str, body: WebhookIn) -> WebhookEndpoint:
    """Register a webhook endpoint; the answer holds its signing secret."""
    membership = _manager(request, org)
    endpoint = webhooks.add_endpoint(
        membership.organization, body.url, verbs=body.verbs, by=request.user
    )
    return endpoint


@router.delete("/orgs/{org}/insights/webhooks/{endpoint}", response={204: None})
def remove_webhook(request: HttpRequest, org: str, endpoint: str) -> None:
    """Stop sending to a webhook endpoint."""
    membership = access_organization(request.user, org)
    found = access_endpoint(membership.organization, endpoint)
    _manager(request, org)
    webhooks.remove_endpoint(found, by=request.user)


@router.put("/orgs/{org}/insights/settings", response=SettingsOut)
def put_settings(request: HttpRequest, org: str, body: SettingsIn) -> object:
    """Change the promotion threshold and the alert triggers."""
    membership = _manager(request, org)
    return save_settings(membership.organization, by=request.user, **body.dict())


@router.get("/orgs/{org}/insights/settings", response=SettingsOut)
def get_settings(request: HttpRequest, org: str) -> object:
    """The promotion threshold and the alert triggers."""
    return insight_settings(access_organization(request.user, org).organization)
