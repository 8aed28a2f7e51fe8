"""Reviewing trainees' replies: the review queue, the team page and their actions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from earful.errors import DomainError
from earful.inbox import reviews
from earful.org.access import access_member, access_organization


def _then(request: HttpRequest, back: str, action: Callable[[], object], done: str) -> HttpResponse:
    """Run a service; say what happened or why it was refused; then go back."""
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect(back)


@login_required
def reviews_page(request: HttpRequest, org: str) -> HttpResponse:
    """The held replies this member may review, with the tone guard's findings."""
    membership = access_organization(request.user, org)
    return render(
        request,
        "inbox/reviews.html",
        {
            "organization": membership.organization,
            "membership": membership,
            "drafts": reviews.review_queue(membership),
        },
    )


@login_required
@require_POST
def approve(request: HttpRequest, org: str, draft: str) -> HttpResponse:
    """Approve a held reply: sent as written, or as the reviewer edited it."""
    membership = access_organization(request.user, org)
    found = reviews.access_draft(membership.organization, draft)
    text = request.POST.get("text")
    return _then(
        request,
        reverse("inbox:reviews", args=[membership.organization.slug]),
        lambda: reviews.approve(found, by=membership, now=timezone.now(), text=text),
        "Approved: the reply is on its way.",
    )


@login_required
@require_POST
def send_back(request: HttpRequest, org: str, draft: str) -> HttpResponse:
    """Send a held reply back to its trainee with a comment."""
    membership = access_organization(request.user, org)
    found = reviews.access_draft(membership.organization, draft)
    comment = request.POST.get("comment", "")
    return _then(
        request,
        reverse("inbox:reviews", args=[membership.organization.slug]),
        lambda: reviews.send_back(found, by=membership, comment=comment, now=timezone.now()),
        "Sent back to its author with your comment.",
    )


@login_required
@require_POST
def resubmit(request: HttpRequest, org: str, draft: str) -> HttpResponse:
    """The trainee's rewrite of a sent-back reply, held for review again."""
    membership = access_organization(request.user, org)
    found = reviews.access_draft(membership.organization, draft)
    text = request.POST.get("text", "")
    return _then(
        request,
        reverse(
            "inbox:conversation", args=[membership.organization.slug, found.conversation.number]
        ),
        lambda: reviews.resubmit(found, by=membership, text=text, now=timezone.now()),
        "Resubmitted: held for review again.",
    )


@login_required
def team_page(request: HttpRequest, org: str) -> HttpResponse:
    """Each member's drafts and how they fared; managers put staff in training here."""
    membership = access_organization(request.user, org)
    organization = membership.organization
    rows = reviews.team(organization)
    return render(
        request,
        "inbox/team.html",
        {
            "organization": organization,
            "membership": membership,
            "rows": rows,
            "can_manage": membership.role in reviews.MANAGERS,
        },
    )


@login_required
@require_POST
def training(request: HttpRequest, org: str) -> HttpResponse:
    """Put a member in or out of training, with their reviewer (empty: any manager)."""
    membership = access_organization(request.user, org)
    organization = membership.organization
    member = access_member(organization, request.POST.get("member", ""))
    email = request.POST.get("reviewer", "")
    reviewer = access_member(organization, email) if email else None
    in_training = request.POST.get("in_training") == "on"
    return _then(
        request,
        reverse("inbox:team", args=[organization.slug]),
        lambda: reviews.change_training(
            member, by=membership, in_training=in_training, reviewer=reviewer
        ),
        f"Saved {member.user.email}'s training.",
    )
