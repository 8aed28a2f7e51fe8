"""Insight pages: dashboard, scorecard, alerts and webhooks, CSV exports; thin views over the
insights services."""

from __future__ import annotations

from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from earful.channels.models import Channel
from earful.errors import DomainError
from earful.insights import dashboard as boards
from earful.insights import webhooks
from earful.insights.access import access_endpoint
from earful.insights.filters import parse_window
from earful.insights.metrics import BREAKDOWNS
from earful.insights.models import WebhookEndpoint
from earful.insights.scorecard import ACT
from earful.insights.services import recent_alerts, save_settings
from earful.insights.snapshots import chosen_scorecard, dashboard_snapshot, scorecard_snapshot
from earful.insights.social import insight_settings
from earful.insights.tables import Table, Window, to_csv
from earful.org.access import access_organization
from earful.org.models import Membership, Role


def _plotly_js() -> Path:
    spec = find_spec("plotly")
    if spec is None or spec.origin is None:
        raise RuntimeError("the plotly package is missing: pip install -e .")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


PLOTLY_JS = _plotly_js()
MANAGERS = (Role.ADMIN, Role.MANAGER)


def chart_data(table: Table) -> dict[str, Any] | None:
    """What insights.js needs to draw a table's chart (None when it has no chart)."""
    if table.chart is None or not table.rows:
        return None
    return {
        "kind": table.chart.kind,
        "x": [str(cell) for cell in table.series(table.columns[0])],
        "series": {name: table.series(name) for name in table.chart.series},
        "y_title": table.chart.y_title,
    }


def _window(request: HttpRequest, membership: Membership) -> tuple[Window | None, str]:
    get = request.GET
    try:
        window = parse_window(
            membership.organization,
            timezone.now(),
            start=get.get("start", "")[:20],
            end=get.get("end", "")[:20],
            channel=get.get("channel", "")[:40],
        )
    except DomainError as exc:
        return None, str(exc)
    return window, ""


def _is_default(request: HttpRequest) -> bool:
    """The view everyone opens first: last 30 days, all channels, times by channel."""
    return not any(request.GET.get(name) for name in ("start", "end", "channel")) and (
        request.GET.get("by", "channel") == "channel"
    )


def _context(request: HttpRequest, membership: Membership, window: Window | None) -> dict[str, Any]:
    organization = membership.organization
    shown = {}
    if window is not None:
        # The form shows the days in force, the defaults included.
        last = window.end - timedelta(microseconds=1)
        shown = {"start": window.start.date().isoformat(), "end": last.date().isoformat()}
    return {
        "organization": organization,
        "channels": Channel.objects.filter(organization=organization).order_by("name"),
        "query": request.GET.urlencode(),
        "start": request.GET.get("start", "")[:20],
        "end": request.GET.get("end", "")[:20],
        "channel": request.GET.get("channel", "")[:40],
    } | shown


@login_required
@require_GET
def dashboard(request: HttpRequest, org: str) -> HttpResponse:
    """Charts and tables of volume, sentiment, response and fairness over the window."""
    membership = access_organization(request.user, org)
    window, error = _window(request, membership)
    context = _context(request, membership, window) | {"error": error}
    by = request.GET.get("by", "channel")[:20]
    context["by"], context["breakdowns"] = by, BREAKDOWNS
    if window is not None:
        now = timezone.now()
        try:
            if _is_default(request):
                tables, context["as_of"] = dashboard_snapshot(membership.organization, now)
            else:
                tables = boards.dashboard(window, now, by)
        except DomainError as exc:
            context["error"] = error = str(exc)
            tables = []
        context |= {
            "window": window,
            "tables": [(table, chart_data(table)) for table in tables],
        }
    return render(request, "insights/dashboard.html", context, status=400 if error else 200)


@login_required
@require_GET
def scorecard(request: HttpRequest, org: str) -> HttpResponse:
    """The social-business scorecard with plain-language explanations."""
    membership = access_organization(request.user, org)
    window, error = _window(request, membership)
    context = _context(request, membership, window) | {"error": error}
    if window is not None:
        now = timezone.now()
        if _is_default(request):
            scores, context["as_of"] = scorecard_snapshot(membership.organization, now)
        else:
            scores = chosen_scorecard(window, now)
        context |= {
            "window": window,
            "scores": scores,
            # Read off the scorecard itself, so the snapshot page runs no live query.
            "promo_warning": next(
                (s for s in scores if s.section == "Promote last" and s.status == ACT), None
            ),
        }
    return render(request, "insights/scorecard.html", context, status=400 if error else 200)


@login_required
@require_GET
def export(request: HttpRequest, org: str, table: str) -> HttpResponse:
    """One table as a CSV download."""
    membership = access_organization(request.user, org)
    window, error = _window(request, membership)
    if window is None:
        return HttpResponse(error, status=400, content_type="text/plain")
    found = boards.table(table, window, timezone.now())
    response = HttpResponse(to_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{org}-{found.slug}.csv"'
    return response


@login_required
@require_GET
def alerts(request: HttpRequest, org: str) -> HttpResponse:
    """Recent alerts with their messages, the webhook endpoints and the thresholds."""
    membership = access_organization(request.user, org)
    organization = membership.organization
    return render(
        request,
        "insights/alerts.html",
        {
            "organization": organization,
            "alerts": recent_alerts(organization),
            "endpoints": WebhookEndpoint.objects.filter(organization=organization).order_by("pk"),
            "settings": insight_settings(organization),
            "can_manage": membership.role in MANAGERS,
        },
    )


def _managing(request: HttpRequest, org: str) -> Membership:
    membership = access_organization(request.user, org)
    if membership.role not in MANAGERS:
        raise DomainError("only managers and admins change alerts and webhooks")
    return membership


@login_required
@require_POST
def add_webhook(request: HttpRequest, org: str) -> HttpResponse:
    """Register a webhook endpoint; its secret is shown once, on the page that follows."""
    membership = access_organization(request.user, org)
    try:
        _managing(request, org)
        verbs = request.POST.get("verbs", "")[:1000].replace(",", " ").split()
        endpoint = webhooks.add_endpoint(
            membership.organization, request.POST.get("url", "")[:600], verbs=verbs, by=request.user
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Webhook added. Its signing secret: {endpoint.secret}")
    return redirect("insights:alerts", org=org)


@login_required
@require_POST
def remove_webhook(request: HttpRequest, org: str, endpoint: str) -> HttpResponse:
    """Stop sending to a webhook endpoint."""
    membership = access_organization(request.user, org)
    found = access_endpoint(membership.organization, endpoint)
    try:
        _managing(request, org)
        webhooks.remove_endpoint(found, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("insights:alerts", org=org)


@login_required
@require_POST
def thresholds(request: HttpRequest, org: str) -> HttpResponse:
    """Change the promotion threshold (a percentage on the form) and the alert triggers."""
    membership = access_organization(request.user, org)
    try:
        _managing(request, org)
        save_settings(
            membership.organization,
            by=request.user,
            promo_threshold=_number(request, "promo_percent", float) / 100,
            ageing_hours=int(_number(request, "ageing_hours", int)),
            spread_replies=int(_number(request, "spread_replies", int)),
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Thresholds saved.")
    return redirect("insights:alerts", org=org)


def _number(request: HttpRequest, name: str, kind: type[float] | type[int]) -> float:
    try:
        return float(kind(request.POST.get(name, "")[:20]))
    except ValueError:
        raise DomainError(f"{name.replace('_', ' ')} must be a number") from None


@require_GET
@cache_control(public=True, max_age=86400)
def plotly_js(request: HttpRequest) -> FileResponse:
    """plotly.js from the installed plotly package: the charts need no CDN."""
    return FileResponse(PLOTLY_JS.open("rb"), content_type="text/javascript")
