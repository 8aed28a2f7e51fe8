"""The public pages: the board, an idea, similar ideas while typing, the answer page.

No sign-in; customers name themselves (name and email, never shown). Nothing private
(staff notes, addresses, hidden posts) is ever put in these templates' context.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from earful.errors import DomainError
from earful.feedback import board as board_services
from earful.feedback import requests as feedback_requests
from earful.feedback.access import access_request, public_board, public_idea
from earful.feedback.models import Board, Idea, IdeaStatus, Visibility

SESSION_KEY = "earful.board.person"
# A field people never see; bots fill every field. Such posts are answered as if accepted.
HONEYPOT = "website"


def _person_form(request: HttpRequest) -> dict[str, str]:
    """What this browser last typed as name and email (kept in its own session only)."""
    remembered = request.session.get(SESSION_KEY) or {}
    return {
        "name": str(request.POST.get("name", remembered.get("name", "")))[:200],
        "email": str(request.POST.get("email", remembered.get("email", "")))[:254],
    }


def _person(request: HttpRequest) -> board_services.Person:
    person = board_services.checked_person(
        request.POST.get("name", ""), request.POST.get("email", "")
    )
    request.session[SESSION_KEY] = {"name": person.name, "email": person.email}
    return person


def _board_context(board: Board) -> dict[str, object]:
    return {"board": board, "statuses": IdeaStatus}


@require_http_methods(["GET", "POST"])
def board_page(request: HttpRequest, board: str) -> HttpResponse:
    """The board: ideas by support, and the form to post one."""
    found = public_board(board)
    error = ""
    form = {"title": "", "details": ""}
    if request.method == "POST":
        form = {
            "title": request.POST.get("title", "")[:300],
            "details": request.POST.get("details", "")[:6000],
        }
        if request.POST.get(HONEYPOT):
            messages.info(request, "Thank you. Your idea will appear once it is approved.")
            return redirect("feedback:board", board=found.slug)
        try:
            idea = board_services.post_idea(found, _person(request), form["title"], form["details"])
        except DomainError as exc:
            error = str(exc)
        else:
            if idea.visibility == Visibility.PENDING:
                messages.info(request, "Thank you. Your idea will appear once it is approved.")
                return redirect("feedback:board", board=found.slug)
            messages.success(request, "Thank you. Your idea is on the board.")
            return redirect("feedback:public_idea", board=found.slug, idea=idea.number)
    context = _board_context(found) | {
        "ideas": board_services.public_ideas(found)[:200],
        "form": form,
        "person": _person_form(request),
        "error": error,
    }
    return render(request, "feedback/board.html", context, status=400 if error else 200)


@require_GET
def similar(request: HttpRequest, board: str) -> HttpResponse:
    """Ideas like the one being typed (an htmx fragment under the form)."""
    found = public_board(board)
    text = f"{request.GET.get('title', '')}\n{request.GET.get('details', '')}"[:2000]
    ideas = board_services.similar_ideas(found.organization, text)
    return render(request, "feedback/_similar.html", {"board": found, "similar": ideas})


@require_GET
def idea_page(request: HttpRequest, board: str, idea: int) -> HttpResponse:
    """One idea: its status, the public response, its history and comments, vote and comment."""
    found = public_board(board)
    shown = public_idea(found, idea)
    context = _board_context(found) | {
        "idea": shown,
        "history": shown.status_changes.order_by("at"),
        "comments": shown.comments.filter(visibility=Visibility.SHOWN)
        .select_related("customer")
        .order_by("created_at"),
        "person": _person_form(request),
    }
    return render(request, "feedback/idea.html", context)


def _on_idea(
    request: HttpRequest,
    board: str,
    idea: int,
    action: Callable[[Idea, board_services.Person], object],
    thanks: str,
) -> HttpResponse:
    """Run a person's action on a shown idea; thank them or say what to fix; back to the idea."""
    found = public_board(board)
    shown = public_idea(found, idea)
    if not request.POST.get(HONEYPOT):
        try:
            action(shown, _person(request))
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, thanks)
    return redirect("feedback:public_idea", board=found.slug, idea=shown.number)


@require_POST
def vote(request: HttpRequest, board: str, idea: int) -> HttpResponse:
    """Count this person as a supporter of the idea."""
    thanks = "Thank you: your vote counts, and we will tell you when it ships."
    return _on_idea(request, board, idea, board_services.vote, thanks)


@require_POST
def comment(request: HttpRequest, board: str, idea: int) -> HttpResponse:
    """Add this person's comment to the idea."""
    text = request.POST.get("text", "")[:6000]
    return _on_idea(
        request,
        board,
        idea,
        lambda shown, person: board_services.comment(shown, person, text),
        "Thank you for your comment.",
    )


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, board: str, token: str) -> HttpResponse:
    """The answer page of a feedback request: free text first, then an optional scale."""
    found = public_board(board)
    asked = access_request(found, token)
    context: dict[str, object] = {"board": found, "asked": asked, "text": ""}
    if request.method == "POST":
        text = request.POST.get("text", "")[:6000]
        raw_scale = request.POST.get("scale", "")[:3]
        context["text"] = text
        # Anything but a number 1-5 is refused by the service with its reason.
        scale = int(raw_scale) if raw_scale.isdigit() else (0 if raw_scale else None)
        try:
            feedback_requests.answer_request(asked, text, scale)
        except DomainError as exc:
            context["error"] = str(exc)
        else:
            context["done"] = True
    elif asked.answered_at is not None:
        context["done"] = True
    status = 400 if context.get("error") else 200
    return render(request, "feedback/answer.html", context, status=status)


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, board: str, token: str) -> HttpResponse:
    """Stop feedback requests: GET asks to confirm (link checkers only GET), POST honours it."""
    found = public_board(board)
    asked = access_request(found, token)
    if request.method == "POST":
        feedback_requests.unsubscribe(asked)
    done = request.method == "POST"
    return render(request, "feedback/unsubscribe.html", {"board": found, "done": done})
