"""Publishing pages: the composer with per-channel previews, a post's page, the calendar.

Thin views: parse the form, fetch through the access helpers, call one service, render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from earful.channels.models import Channel
from earful.errors import DomainError
from earful.org.access import access_organization
from earful.org.models import Membership
from earful.publishing import attachments, services
from earful.publishing.access import access_media, access_post
from earful.publishing.gate import gate_settings
from earful.publishing.limits import POST_LIMITS, length, publishable_channels, too_long
from earful.publishing.models import OPEN_STATES, Post, PostState
from earful.publishing.queries import calendar as calendar_days
from earful.publishing.queries import month_bounds
from earful.publishing.reviews import approve_post, findings, may_review_post, send_back_post

MAX_FIELD = 10_000


@dataclass(frozen=True)
class Preview:
    """How the post reads on one channel, and whether it fits."""

    channel: Channel
    text: str
    used: int
    limit: int
    problem: str
    selected: bool
    # The channel's own text when it differs from the main one.
    override: str


def _form_values(
    request: HttpRequest, channels: list[Channel]
) -> tuple[str, set[str], dict[str, str]]:
    text = request.POST.get("text", "")[:MAX_FIELD]
    chosen = set(request.POST.getlist("channel")) & {str(c.code) for c in channels}
    overrides = {str(c.code): request.POST.get(f"text_{c.code}", "")[:MAX_FIELD] for c in channels}
    return text, chosen, {code: value for code, value in overrides.items() if value.strip()}


def _previews(
    channels: list[Channel], text: str, chosen: set[str], overrides: dict[str, str]
) -> list[Preview]:
    found = []
    for channel in channels:
        own = overrides.get(str(channel.code), "")
        said = own or text
        found.append(
            Preview(
                channel,
                said,
                length(channel.kind, said),
                POST_LIMITS[channel.kind],
                too_long(channel.kind, said),
                str(channel.code) in chosen,
                own,
            )
        )
    return found


def _page(
    request: HttpRequest,
    membership: Membership,
    post: Post | None,
    form: tuple[str, set[str], dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    channels = publishable_channels(membership.organization)
    if form is None and post is not None:
        chosen = {str(code) for code in post.targets.values_list("channel__code", flat=True)}
        form = (post.text, chosen, dict(post.overrides))
    text, chosen, overrides = form or ("", {str(c.code) for c in channels}, {})
    upcoming = Post.objects.filter(
        organization=membership.organization, state__in=OPEN_STATES
    ).order_by("scheduled_at", "-created_at")[:20]
    context: dict[str, Any] = {
        "organization": membership.organization,
        "membership": membership,
        "can_manage": membership.role in services.MANAGERS,
        "post": post,
        "editable": post is None or post.state in OPEN_STATES,
        "text": text,
        "previews": _previews(channels, text, chosen, overrides),
        "overrides": overrides,
        "upcoming": upcoming,
        "gate": gate_settings(membership.organization),
        "media": list(post.media.all()) if post else [],
        "reasons": _reasons(post),
        "can_review": post is not None and may_review_post(membership, post),
        "findings": findings(post) if post is not None and post.state == PostState.REVIEW else [],
        "targets": list(post.targets.select_related("channel", "message__outbox")) if post else [],
    }
    return render(request, "publishing/composer.html", context, status=status)


def _reasons(post: Post | None) -> list[dict[str, Any]]:
    """The post's hold reasons, with only earful's own paths kept as links."""
    if post is None or post.state != PostState.HELD:
        return []
    return [
        {
            "text": str(reason.get("text", "")),
            "channel": str(reason.get("channel", "")),
            "links": [
                (str(label), str(path))
                for label, path in reason.get("links", [])
                if str(path).startswith("/o/")
            ],
        }
        for reason in post.hold_reasons
    ]


def _when(request: HttpRequest) -> datetime | None:
    raw = request.POST.get("scheduled_at", "")[:20]
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        raise DomainError("the time to post is not a date and time") from None


def _save(request: HttpRequest, membership: Membership, post: Post | None) -> HttpResponse:
    channels = publishable_channels(membership.organization)
    form = _form_values(request, channels)
    text, chosen, overrides = form
    action = request.POST.get("action", "draft")
    try:
        saved = services.compose(
            membership,
            text,
            [c for c in channels if str(c.code) in chosen],
            overrides=overrides,
            post=post,
            action=action,
            when=_when(request),
            now=timezone.now(),
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return _page(request, membership, post, form, status=400)
    messages.success(request, f"Post {saved.get_state_display().lower()}.")
    return redirect("publishing:post", org=membership.organization.slug, post=str(saved.code))


@login_required
@require_http_methods(["GET", "POST"])
def composer(request: HttpRequest, org: str) -> HttpResponse:
    """Write a new post: text, channels, per-channel texts; draft, schedule or publish now."""
    membership = access_organization(request.user, org)
    if request.method == "POST":
        return _save(request, membership, None)
    return _page(request, membership, None)


@login_required
@require_http_methods(["GET", "POST"])
def post_page(request: HttpRequest, org: str, post: str) -> HttpResponse:
    """One post: its state, why it is held, what went where; edit it while it is open."""
    membership = access_organization(request.user, org)
    found = access_post(membership.organization, post)
    if request.method == "POST":
        return _save(request, membership, found)
    return _page(request, membership, found)


@login_required
@require_POST
def preview(request: HttpRequest, org: str) -> HttpResponse:
    """The per-channel previews for the text being written (htmx swaps them in as one types)."""
    membership = access_organization(request.user, org)
    channels = publishable_channels(membership.organization)
    text, chosen, overrides = _form_values(request, channels)
    context = {
        "organization": membership.organization,
        "previews": _previews(channels, text, chosen, overrides),
        "overrides": overrides,
        "editable": True,
    }
    return render(request, "publishing/_previews.html", context)


@login_required
@require_POST
def cancel(request: HttpRequest, org: str, post: str) -> HttpResponse:
    """Stop a post from going out."""
    membership = access_organization(request.user, org)
    found = access_post(membership.organization, post)
    try:
        services.cancel(membership, found)
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("publishing:post", org=org, post=post)


@login_required
@require_POST
def override(request: HttpRequest, org: str, post: str) -> HttpResponse:
    """A manager sends a held post out despite the gate, saying why."""
    membership = access_organization(request.user, org)
    found = access_post(membership.organization, post)
    try:
        services.override_hold(
            membership, found, request.POST.get("reason", "")[:2000], now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Hold overridden; the post is going out.")
    return redirect("publishing:post", org=org, post=post)


@login_required
@require_POST
def approve(request: HttpRequest, org: str, post: str) -> HttpResponse:
    """A reviewer approves a trainee's post, as written or edited."""
    membership = access_organization(request.user, org)
    found = access_post(membership.organization, post)
    try:
        approve_post(
            membership, found, now=timezone.now(), text=request.POST.get("text", "")[:MAX_FIELD]
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Approved.")
    return redirect("publishing:post", org=org, post=post)


@login_required
@require_POST
def send_back(request: HttpRequest, org: str, post: str) -> HttpResponse:
    """A reviewer returns a trainee's post to draft with a comment."""
    membership = access_organization(request.user, org)
    found = access_post(membership.organization, post)
    try:
        send_back_post(membership, found, request.POST.get("comment", "")[:2000])
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Sent back to the author.")
    return redirect("publishing:post", org=org, post=post)


@login_required
@require_POST
def add_media(request: HttpRequest, org: str, post: str) -> HttpResponse:
    """Attach an image or video to a post that has not gone out."""
    membership = access_organization(request.user, org)
    found = access_post(membership.organization, post)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise DomainError("choose a file to attach")
        attachments.attach_media(
            membership, found, upload, request.POST.get("description", "")[:1500]
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("publishing:post", org=org, post=post)


@login_required
@require_POST
def remove_media(request: HttpRequest, org: str, post: str, media: str) -> HttpResponse:
    """Take an attachment off a post."""
    membership = access_organization(request.user, org)
    item = access_media(access_post(membership.organization, post), media)
    try:
        attachments.remove_media(membership, item)
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("publishing:post", org=org, post=post)


@login_required
@require_POST
def gate(request: HttpRequest, org: str) -> HttpResponse:
    """Change the listen-first gate's checks and thresholds (managers)."""
    membership = access_organization(request.user, org)
    try:
        services.save_gate_settings(
            membership,
            unanswered_minutes=_int(request, "unanswered_minutes"),
            alert_hours=_int(request, "alert_hours"),
            check_unanswered=request.POST.get("check_unanswered") == "on",
            check_alerts=request.POST.get("check_alerts") == "on",
            check_promotion=request.POST.get("check_promotion") == "on",
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Listen-first gate saved.")
    return redirect("publishing:composer", org=org)


def _int(request: HttpRequest, name: str) -> int:
    try:
        return int(request.POST.get(name, "")[:10])
    except ValueError:
        raise DomainError(f"{name.replace('_', ' ')} must be a whole number") from None


@login_required
@require_GET
def calendar(request: HttpRequest, org: str) -> HttpResponse:
    """Scheduled, held and past posts of a month (imported posts of ours included), by day."""
    membership = access_organization(request.user, org)
    today = timezone.now().date()
    try:
        first = date.fromisoformat(request.GET.get("month", "")[:7] + "-01")
    except ValueError:
        first = today.replace(day=1)
    start, end = month_bounds(first)
    previous = (first - timedelta(days=1)).replace(day=1)
    context = {
        "organization": membership.organization,
        "month": first,
        "previous": previous,
        "next": end.date(),
        "days": calendar_days(membership.organization, start, end),
        "states": PostState,
    }
    return render(request, "publishing/calendar.html", context)
