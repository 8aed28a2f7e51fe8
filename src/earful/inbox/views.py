"""Inbox pages: the message list and the queues, thin views over the inbox queries."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from earful.channels.models import Channel
from earful.conversations.queries import list_messages
from earful.inbox.queues import QUEUES, Filters, queue, queue_counts
from earful.org.access import access_organization, organizations_for

PAGE_SIZE = 50


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to their first organization's inbox."""
    organization = organizations_for(request.user).first()
    if organization is None:
        return render(request, "inbox/no_organization.html")
    return redirect("inbox:queue", org=organization.slug)


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


def _filters(request: HttpRequest) -> Filters:
    get = request.GET
    try:
        since = date.fromisoformat(get.get("since", "")) if get.get("since") else None
    except ValueError:
        since = None
    return Filters(
        channel=get.get("channel", "")[:100],
        sentiment=get.get("sentiment", "")[:16],
        intent=get.get("intent", "")[:16],
        language=get.get("language", "")[:8],
        topic=get.get("topic", "")[:32],
        since=since,
        text=get.get("q", "")[:200],
    )


@login_required
def queue_page(request: HtmxHttpRequest, org: str) -> HttpResponse:
    """One queue with counts for all; htmx polls the rows so new work appears by itself."""
    membership = access_organization(request.user, org)
    now = timezone.now()
    name = request.GET.get("queue", "unassigned")
    name = name if name in QUEUES else "unassigned"
    sort = "age" if request.GET.get("sort") == "age" else "urgency"
    filters = _filters(request)
    page = Paginator(queue(membership, name, filters, sort=sort, now=now), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "organization": membership.organization,
        "membership": membership,
        "queues": QUEUES,
        "queue": name,
        "counts": queue_counts(membership, now),
        "sort": sort,
        "filters": filters,
        "page": page,
        "now": now,
        "channels": Channel.objects.filter(organization=membership.organization).order_by("name"),
    }
    template = "inbox/_queue_rows.html" if request.htmx else "inbox/queue.html"
    return render(request, template, context)
