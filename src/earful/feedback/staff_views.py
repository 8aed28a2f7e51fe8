"""Staff pages of the board: ideas, one idea's work, suggestions to link, settings, requests."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from earful.conversations.access import access_message
from earful.errors import DomainError
from earful.feedback import ideas as idea_services
from earful.feedback import queries
from earful.feedback.access import access_comment, access_idea
from earful.feedback.board import BoardSettings, board_for, update_board
from earful.feedback.models import FeedbackRequest, Idea, IdeaStatus
from earful.feedback.requests import Visit, request_for_visits
from earful.org.access import access_organization
from earful.org.models import Membership

SUGGESTIONS_PAGE = 20


def _open(request: HttpRequest, org: str, number: int) -> tuple[Membership, Idea]:
    membership = access_organization(request.user, org)
    return membership, access_idea(membership.organization, number)


def _then(request: HttpRequest, idea: Idea, action: Callable[[], object]) -> HttpResponse:
    """Run a service; show its refusal as a message; back to the idea either way."""
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("feedback:staff_idea", org=idea.organization.slug, idea=idea.number)


@login_required
def ideas(request: HttpRequest, org: str) -> HttpResponse:
    """Every idea, most supported first, filterable by status."""
    membership = access_organization(request.user, org)
    status = request.GET.get("status", "")
    status = status if status in IdeaStatus.values else ""
    board = board_for(membership.organization)
    page = Paginator(queries.staff_ideas(membership.organization, status), 50).get_page(
        request.GET.get("page")
    )
    context = {
        "organization": membership.organization,
        "board": board,
        "page": page,
        "status": status,
        "statuses": IdeaStatus.choices,
    }
    return render(request, "feedback/staff_ideas.html", context)


@login_required
def idea(request: HttpRequest, org: str, idea: int) -> HttpResponse:
    """One idea: status and response, merge, notes, moderation, supporters and who was told."""
    membership, found = _open(request, org, idea)
    context = {
        "organization": membership.organization,
        "board": board_for(membership.organization),
        "idea": found,
        "supporters": queries.supporters_of(found),
        "comments": found.comments.select_related("customer").order_by("created_at"),
        "notes": found.staff_notes.select_related("author").order_by("created_at"),
        "history": found.status_changes.select_related("by").order_by("at"),
        "statuses": [c for c in IdeaStatus.choices if c[0] in idea_services.SETTABLE],
    }
    return render(request, "feedback/staff_idea.html", context)


@login_required
@require_POST
def status(request: HttpRequest, org: str, idea: int) -> HttpResponse:
    """Set the idea's status and public response (shipping tells the supporters)."""
    _, found = _open(request, org, idea)
    return _then(
        request,
        found,
        lambda: idea_services.set_status(
            found,
            request.POST.get("status", ""),
            by=request.user,
            now=timezone.now(),
            response=request.POST.get("response", "")[:5000],
        ),
    )


@login_required
@require_POST
def merge(request: HttpRequest, org: str, idea: int) -> HttpResponse:
    """Merge this idea into the one numbered in the form."""
    membership, found = _open(request, org, idea)
    raw = request.POST.get("into", "").strip().lstrip("#")
    if not raw.isdigit() or len(raw) > 9:
        messages.error(request, "give the number of the idea to merge into")
        return redirect("feedback:staff_idea", org=org, idea=found.number)
    into = access_idea(membership.organization, int(raw))
    try:
        idea_services.merge_ideas(found, into, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("feedback:staff_idea", org=org, idea=found.number)
    messages.success(request, f"Merged into #{into.number}; its supporters now count there.")
    return redirect("feedback:staff_idea", org=org, idea=into.number)


@login_required
@require_POST
def note(request: HttpRequest, org: str, idea: int) -> HttpResponse:
    """Add a private staff note."""
    _, found = _open(request, org, idea)
    text = request.POST.get("text", "")[:10000]
    return _then(request, found, lambda: idea_services.add_staff_note(found, text, by=request.user))


@login_required
@require_POST
def moderate(request: HttpRequest, org: str, idea: int) -> HttpResponse:
    """Approve (show) or hide the idea."""
    _, found = _open(request, org, idea)
    visibility = request.POST.get("visibility", "")
    return _then(
        request, found, lambda: idea_services.moderate_idea(found, visibility, by=request.user)
    )


@login_required
@require_POST
def block(request: HttpRequest, org: str, idea: int) -> HttpResponse:
    """Block the idea's author from the board."""
    _, found = _open(request, org, idea)
    return _then(request, found, lambda: idea_services.block_author(found, by=request.user))


@login_required
@require_POST
def moderate_comment(request: HttpRequest, org: str, comment: str) -> HttpResponse:
    """Approve (show) or hide a comment."""
    membership = access_organization(request.user, org)
    found = access_comment(membership.organization, comment)
    visibility = request.POST.get("visibility", "")
    return _then(
        request,
        found.idea,
        lambda: idea_services.moderate_comment(found, visibility, by=request.user),
    )


@login_required
def suggestions(request: HttpRequest, org: str) -> HttpResponse:
    """Suggestions heard on any channel, not yet linked, each with the nearest ideas."""
    membership = access_organization(request.user, org)
    organization = membership.organization
    page = Paginator(queries.unlinked_suggestions(organization), SUGGESTIONS_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "organization": organization,
        "page": page,
        "candidates": queries.with_nearest(organization, list(page.object_list)),
    }
    return render(request, "feedback/suggestions.html", context)


@login_required
@require_POST
def link(request: HttpRequest, org: str, message: str) -> HttpResponse:
    """Link a suggestion to an idea (its number) or open a new idea from it."""
    membership = access_organization(request.user, org)
    organization = membership.organization
    found = access_message(organization, message)
    raw = request.POST.get("idea", "").strip().lstrip("#")
    try:
        if raw == "new":
            created = idea_services.open_idea_from_message(
                found, request.POST.get("title", "")[:300], by=request.user
            )
            messages.success(request, f"Opened idea #{created.number}.")
        elif raw.isdigit() and len(raw) <= 9:
            target = access_idea(organization, int(raw))
            idea_services.link_message(found, target, by=request.user)
            messages.success(request, f"Linked to #{target.number}; its author now supports it.")
        else:
            messages.error(request, "choose an idea, or open a new one")
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("feedback:suggestions", org=organization.slug)


def _settings_from(request: HttpRequest) -> BoardSettings:
    post = request.POST
    days = post.get("request_interval_days", "")[:5]
    return BoardSettings(
        title=post.get("title", "")[:300],
        slug=post.get("slug", "")[:100].strip().lower(),
        public_url=post.get("public_url", "")[:300].strip(),
        approve_first=post.get("approve_first") == "on",
        request_after_resolve=post.get("request_after_resolve") == "on",
        request_question=post.get("request_question", "")[:3000],
        request_interval_days=int(days) if days.isdigit() else 0,
        shipped_template=post.get("shipped_template", "")[:3000],
    )


@login_required
@require_http_methods(["GET", "POST"])
def board_settings(request: HttpRequest, org: str) -> HttpResponse:
    """The board's address, moderation, feedback requests and the shipped notice."""
    membership = access_organization(request.user, org)
    board = board_for(membership.organization)
    error = ""
    if request.method == "POST":
        try:
            update_board(board, _settings_from(request), by=request.user)
        except DomainError as exc:
            error = str(exc)
            board.refresh_from_db()
        else:
            messages.success(request, "Saved.")
            return redirect("feedback:settings", org=org)
    context = {"organization": membership.organization, "board": board, "error": error}
    return render(request, "feedback/settings.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def feedback_requests(request: HttpRequest, org: str) -> HttpResponse:
    """Requests sent and answered; a form to ask one customer after a visit or order."""
    membership = access_organization(request.user, org)
    organization = membership.organization
    if request.method == "POST":
        visit = Visit(
            email=request.POST.get("email", "")[:254],
            name=request.POST.get("name", "")[:200],
            reference=request.POST.get("reference", "")[:200],
        )
        outcome = request_for_visits(organization, [visit], now=timezone.now())[0]
        if outcome.request is None:
            messages.error(request, f"Not sent: {outcome.skipped}.")
        else:
            messages.success(request, "Sent.")
        return redirect("feedback:requests", org=org)
    sent = (
        FeedbackRequest.objects.filter(organization=organization)
        .select_related("customer", "channel", "answer")
        .order_by("-sent_at")
    )
    page = Paginator(sent, 50).get_page(request.GET.get("page"))
    return render(request, "feedback/requests.html", {"organization": organization, "page": page})
