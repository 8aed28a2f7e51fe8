"""Departments' outside destinations: the settings page, its actions, and their webhooks."""

from __future__ import annotations

import uuid
from typing import Any, get_origin

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from earful.errors import DomainError
from earful.inbox import notifications, tickets, tracker_updates
from earful.inbox.access import access_destination, managing_destinations
from earful.inbox.destinations import PayloadError, WebhookRejectedError, destination_class
from earful.inbox.models import (
    Destination,
    DestinationKind,
    ExternalTicket,
    NotificationPolicy,
    Redaction,
)
from earful.org.access import access_department, access_organization
from earful.org.models import Department, Role

MANAGERS = (Role.ADMIN, Role.MANAGER)
# Settings whose values are credentials: typed into password fields and never shown again.
SECRET_WORDS = ("token", "secret", "password", "key")


def setting_fields(kind: str) -> list[dict[str, Any]]:
    """The settings form of a destination kind, read off its settings model."""
    cls = destination_class(kind)
    if cls is None:
        return []
    fields = []
    for name, info in cls.settings_model.model_fields.items():
        required = info.is_required()
        fields.append(
            {
                "name": name,
                "label": name.replace("_", " "),
                "required": required,
                "secret": any(word in name for word in SECRET_WORDS),
                "boolean": info.annotation is bool,
                "listed": get_origin(info.annotation) is list,
                "default": "" if required else info.get_default(call_default_factory=True),
            }
        )
    return fields


def _settings_from(request: HttpRequest, kind: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in setting_fields(kind):
        name = field["name"]
        if field["boolean"]:
            values[name] = request.POST.get(name) == "on"
        elif field["listed"]:
            values[name] = [v.strip() for v in request.POST.get(name, "").split(",") if v.strip()]
        elif request.POST.get(name, "").strip() or field["required"]:
            values[name] = request.POST.get(name, "").strip()
    return values


def _answers_back(kind: str) -> bool:
    cls = destination_class(kind)
    return cls is None or cls.answers_back


@login_required
def departments_page(request: HttpRequest, org: str) -> HttpResponse:
    """Each department with its outside destinations, their last check and open tickets."""
    membership = access_organization(request.user, org)
    organization = membership.organization
    departments = list(Department.objects.filter(organization=organization).order_by("name"))
    destinations = list(Destination.objects.filter(organization=organization).order_by("kind"))
    tickets_waiting = {
        d.pk: ExternalTicket.objects.filter(destination=d).exclude(state="open").count()
        for d in destinations
    }
    policies = {
        p.department_id: p
        for p in NotificationPolicy.objects.filter(
            organization=organization, department__isnull=False
        )
    }
    rows = [
        {
            "department": department,
            "destinations": [
                {
                    "destination": d,
                    "waiting": tickets_waiting[d.pk],
                    "answers_back": _answers_back(d.kind),
                }
                for d in destinations
                if d.department_id == department.pk
            ],
            "notifications": policies.get(department.pk)
            or NotificationPolicy(organization=organization, department=department),
            "rooms": [
                d.get_kind_display()
                for d in destinations
                if d.department_id == department.pk and notifications.takes_notifications(d)
            ],
        }
        for department in departments
    ]
    kinds = [
        {"value": value, "label": label, "fields": setting_fields(value)}
        for value, label in DestinationKind.choices
        if destination_class(value) is not None
    ]
    return render(
        request,
        "inbox/departments.html",
        {
            "organization": organization,
            "rows": rows,
            "kinds": kinds,
            "redactions": Redaction.choices,
            "can_manage": membership.role in MANAGERS,
            "hook_base": request.build_absolute_uri("/hooks/destinations/"),
        },
    )


@login_required
@require_POST
def add_destination(request: HttpRequest, org: str, department: str) -> HttpResponse:
    """Reach a department through a tracker or chat room."""
    try:
        membership = managing_destinations(request.user, org)
        found = access_department(membership.organization, department)
        kind = request.POST.get("kind", "")
        tickets.add_destination(
            found,
            kind,
            _settings_from(request, kind),
            redaction=request.POST.get("redaction", Redaction.CONTACT),
            by=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("inbox:departments", org=org)


@login_required
@require_POST
def check_destination(request: HttpRequest, org: str, destination: str) -> HttpResponse:
    """Try a destination's credentials now and show the answer."""
    try:
        membership = managing_destinations(request.user, org)
        found = access_destination(membership.organization, destination)
        answer = tickets.check_destination(found, timezone.now(), by=request.user)
        (messages.success if found.last_check_ok else messages.error)(request, answer)
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("inbox:departments", org=org)


@login_required
@require_POST
def remove_destination(request: HttpRequest, org: str, destination: str) -> HttpResponse:
    """Stop reaching the department at this destination."""
    try:
        membership = managing_destinations(request.user, org)
        found = access_destination(membership.organization, destination)
        tickets.remove_destination(found, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("inbox:departments", org=org)


def _policy_fields(request: HttpRequest) -> dict[str, Any]:
    def hour(name: str) -> int | None:
        value = request.POST.get(name, "").strip()
        return int(value) if value else None

    try:
        return {
            "urgent": request.POST.get("urgent") == "on",
            "urgency_threshold": float(request.POST.get("urgency_threshold", "0.8")),
            "sla_breaches": request.POST.get("sla_breaches") == "on",
            "mentions": request.POST.get("mentions") == "on",
            "max_per_hour": int(request.POST.get("max_per_hour", "6")),
            "quiet_from": hour("quiet_from"),
            "quiet_until": hour("quiet_until"),
        }
    except ValueError:
        raise DomainError("urgency is a number from 0 to 1; limits and hours are whole") from None


@login_required
@require_POST
def department_notifications(request: HttpRequest, org: str, department: str) -> HttpResponse:
    """Save what the department's chat rooms hear of, how often, and when not."""
    try:
        membership = managing_destinations(request.user, org)
        found = access_department(membership.organization, department)
        notifications.save_policy(
            membership.organization, department=found, by=request.user, **_policy_fields(request)
        )
        messages.success(request, f"{found.name}'s notifications are saved")
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("inbox:departments", org=org)


@login_required
def my_notifications(request: HttpRequest, org: str) -> HttpResponse:
    """A member's own notifications by email: what, how often, and their quiet hours."""
    membership = access_organization(request.user, org)
    if request.method == "POST":
        try:
            notifications.save_policy(
                membership.organization,
                member=membership,
                by=request.user,
                **_policy_fields(request),
            )
            messages.success(request, "Your notifications are saved")
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("inbox:my_notifications", org=org)
    policy = NotificationPolicy.objects.filter(member=membership).first()
    return render(
        request,
        "inbox/notifications.html",
        {
            "organization": membership.organization,
            "policy": policy
            or NotificationPolicy(organization=membership.organization, member=membership),
            "saved": policy is not None,
            "email": request.user.email if isinstance(request.user, User) else "",
        },
    )


@csrf_exempt  # Authenticated by the platform's signature or token, not by a browser session.
@require_POST
def destination_webhook(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """Receive one webhook from a department's tracker or chat."""
    destination = get_object_or_404(Destination, code=code, enabled=True)
    client = tickets.client_for(destination)
    answer = client.handshake(request.headers, request.body)
    if answer is not None:
        return HttpResponse(answer, content_type="application/json")
    try:
        applied = tracker_updates.receive_webhook(
            destination, request.headers, request.body, timezone.now()
        )
    except WebhookRejectedError as exc:
        return JsonResponse({"error": str(exc)}, status=401)
    except PayloadError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"applied": applied})
