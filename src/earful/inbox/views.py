"""Inbox pages: thin views over the conversations queries."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.middleware import HtmxDetails

from earful.conversations.queries import list_messages
from earful.org.access import access_organization, organizations_for

PAGE_SIZE = 50


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to their first organization's messages."""
    organization = organizations_for(request.user).first()
    if organization is None:
        return render(request, "inbox/no_organization.html")
    return redirect("inbox:messages", org=organization.slug)


@login_required
def messages(request: HtmxHttpRequest, org: str) -> HttpResponse:
    """List the organization's messages, newest first, with full-text search."""
    membership = access_organization(request.user, org)
    query = request.GET.get("q", "")[:200]
    page = Paginator(list_messages(membership.organization, text=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = "inbox/_message_rows.html" if request.htmx else "inbox/messages.html"
    return render(
        request,
        template,
        {
            "organization": membership.organization,
            "organizations": organizations_for(request.user),
            "page": page,
            "query": query,
        },
    )
