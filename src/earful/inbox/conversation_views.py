"""The conversation page and its actions: each a thin view calling one inbox service."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from earful.conversations.access import access_conversation, access_handoff, access_message
from earful.conversations.models import Conversation
from earful.errors import DomainError
from earful.inbox import assignment, canned, handoffs, workflow
from earful.inbox.access import access_playbook
from earful.inbox.page import conversation_context
from earful.inbox.playbooks import run_playbook
from earful.inbox.replies import ReplyHeldError, send_reply_to_customer
from earful.inbox.tone import check_tone
from earful.org.access import access_department, access_member, access_organization
from earful.org.models import Membership, Role


def _open(request: HttpRequest, org: str, number: int) -> tuple[Membership, Conversation]:
    membership = access_organization(request.user, org)
    return membership, access_conversation(membership.organization, number)


def _then(
    request: HttpRequest, conversation: Conversation, action: Callable[[], object]
) -> HttpResponse:
    """Run a service; show its refusal as a message; back to the conversation either way."""
    try:
        action()
    except ReplyHeldError as held:
        # Not a refusal: the reply is kept and waits for the trainee's reviewer.
        messages.info(request, str(held))
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect(
        "inbox:conversation", org=conversation.organization.slug, number=conversation.number
    )


@login_required
def conversation(request: HttpRequest, org: str, number: int) -> HttpResponse:
    """The conversation page: timeline, customer card, clocks, notes, composer, hand-offs."""
    membership, found = _open(request, org, number)
    context = conversation_context(membership, found, request.user, timezone.now())
    return render(request, "inbox/conversation.html", context)


@login_required
@require_POST
def reply(request: HttpRequest, org: str, number: int) -> HttpResponse:
    """Send a reply to the customer through the outbox."""
    membership, found = _open(request, org, number)
    choice = request.POST.get("parent", "")
    # "email:<address>" moves the answer to a private email; anything else names a message.
    email_to = choice.removeprefix("email:") if choice.startswith("email:") else ""
    code = "" if email_to else choice
    parent = access_message(membership.organization, code) if code else None
    text = request.POST.get("text", "")
    return _then(
        request,
        found,
        lambda: send_reply_to_customer(
            found, text, by=request.user, now=timezone.now(), parent=parent, email_to=email_to
        ),
    )


@login_required
@require_POST
def tone(request: HttpRequest, org: str, number: int) -> HttpResponse:
    """The tone guard's verdict on a draft (an htmx fragment beside the composer)."""
    _open(request, org, number)
    result = check_tone(request.POST.get("text", "")[:10000])
    return render(request, "inbox/_tone.html", {"result": result})


@login_required
@require_POST
def note(request: HttpRequest, org: str, number: int) -> HttpResponse:
    """Add an internal note."""
    _, found = _open(request, org, number)
    text = request.POST.get("text", "")
    return _then(request, found, lambda: workflow.add_note(found, text, by=request.user))


@login_required
@require_POST
def assign(request: HttpRequest, org: str, number: int) -> HttpResponse:
    """Assign, reassign or unassign (an empty email)."""
    membership, found = _open(request, org, number)
    email = request.POST.get("assignee", "")
    member = access_member(membership.organization, email) if email else None
    return _then(request, found, lambda: assignment.assign(found, member, by=request.user))


@login_required
@require_POST
def status(request: HttpRequest, org: str, number: int) -> HttpResponse:
    """Change the status; resolving an unanswered conversation needs a reason."""
    _, found = _open(request, org, number)
    new, reason = request.POST.get("status", ""), request.POST.get("reason", "")
    return _then(
        request,
        found,
        lambda: workflow.set_status(found, new, by=request.user, now=timezone.now(), reason=reason),
    )


@login_required
@require_POST
def hand_off(request: HttpRequest, org: str, number: int) -> HttpResponse:
    """Hand the conversation to a department with a note."""
    membership, found = _open(request, org, number)
    department = access_department(membership.organization, request.POST.get("department", ""))
    question = request.POST.get("question", "")
    return _then(
        request,
        found,
        lambda: handoffs.hand_off(found, department, question, by=request.user, now=timezone.now()),
    )


@login_required
@require_POST
def fixed(request: HttpRequest, org: str, handoff: str) -> HttpResponse:
    """The department marks its hand-off fixed."""
    membership = access_organization(request.user, org)
    found = access_handoff(membership.organization, handoff)
    answer = request.POST.get("answer", "")
    return _then(
        request,
        found.conversation,
        lambda: handoffs.mark_fixed(found, answer, by=request.user, now=timezone.now()),
    )


@login_required
@require_POST
def report_back(request: HttpRequest, org: str, handoff: str) -> HttpResponse:
    """Send the (edited) drafted report back to the customer."""
    membership = access_organization(request.user, org)
    found = access_handoff(membership.organization, handoff)
    text = request.POST.get("text", "")
    return _then(
        request,
        found.conversation,
        lambda: handoffs.report_back(found, text, by=request.user, now=timezone.now()),
    )


@login_required
@require_POST
def playbook(request: HttpRequest, org: str, number: int) -> HttpResponse:
    """Run a playbook on the conversation: reply, hand-off, priority and status in one step."""
    membership, found = _open(request, org, number)
    chosen = access_playbook(membership.organization, request.POST.get("playbook", ""))
    return _then(
        request, found, lambda: run_playbook(found, chosen, by=request.user, now=timezone.now())
    )


@login_required
@require_POST
def correct(request: HttpRequest, org: str, message: str) -> HttpResponse:
    """Correct a triage label of a message (kept for retraining)."""
    membership = access_organization(request.user, org)
    found = access_message(membership.organization, message)
    field, value = request.POST.get("field", ""), request.POST.get("value", "")
    back = found.conversation
    if back is None:
        try:
            canned.correct_label(found, field, value, by=request.user)
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("inbox:messages", org=org)
    return _then(request, back, lambda: canned.correct_label(found, field, value, by=request.user))


@login_required
@require_POST
def auto_assign(request: HttpRequest, org: str) -> HttpResponse:
    """Managers run fair auto-assignment over the unassigned queue."""
    membership = access_organization(request.user, org)
    if membership.role not in (Role.ADMIN, Role.MANAGER):
        messages.error(request, "only managers and admins run auto-assignment")
    else:
        done = assignment.auto_assign(membership.organization, now=timezone.now())
        messages.info(request, f"assigned {len(done)} conversation{'s' if len(done) != 1 else ''}")
    return redirect("inbox:queue", org=org)


@login_required
@require_POST
def availability(request: HttpRequest, org: str) -> HttpResponse:
    """Mark yourself present or absent for auto-assignment."""
    membership = access_organization(request.user, org)
    assignment.set_availability(membership, request.POST.get("available") == "1", by=request.user)
    return redirect("inbox:queue", org=org)
