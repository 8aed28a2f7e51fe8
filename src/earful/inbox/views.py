"""Inbox pages: the message list and the queues, thin views over the inbox queries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from earful.channels.models import Channel
from earful.conversations.queries import list_messages
from earful.inbox.queues import QUEUES, Filters, queue, queue_counts
from earful.org.access import access_organization, organizations_for

PAGE_SIZE = 50
# Deeper pages cost an OFFSET walk; nobody pages this far rather than filtering.
LAST_PAGE = 200

Row = TypeVar("Row", bound=Model)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@dataclass(frozen=True)
class BoundedPage(Generic[Row]):
    """One page read as size + 1 rows: it knows whether more follow, not the total."""

    rows: list[Row]
    number: int
    has_next: bool
    size: int = PAGE_SIZE

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    @property
    def has_previous(self) -> bool:
        """Whether a page comes before this one."""
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        """The number of the page before."""
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        """The number of the page after."""
        return self.number + 1

    @property
    def has_other_pages(self) -> bool:
        """Whether there is a page before or after."""
        return self.has_previous or self.has_next

    @property
    def seen(self) -> int:
        """How many rows this page and the ones before it hold: the total on the last page."""
        return (self.number - 1) * self.size + len(self.rows)


def bounded_page(
    rows: QuerySet[Row], number: str | None, size: int = PAGE_SIZE
) -> BoundedPage[Row]:
    """The numbered page (1 to LAST_PAGE, anything else the first) without counting all rows."""
    try:
        page = min(max(int(number or 1), 1), LAST_PAGE)
    except ValueError:
        page = 1
    start = (page - 1) * size
    found = list(rows[start : start + size + 1])
    return BoundedPage(found[:size], page, len(found) > size and page < LAST_PAGE, size)


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
    page = bounded_page(list_messages(membership.organization, text=query), request.GET.get("page"))
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
    page = bounded_page(
        queue(membership, name, filters, sort=sort, now=now), request.GET.get("page")
    )
    counts = queue_counts(membership, now)
    context = {
        "organization": membership.organization,
        "membership": membership,
        "queues": QUEUES,
        "queue": name,
        "counts": counts,
        # A filtered queue is not counted; its size shows as far as the pages have read.
        "total": None if filters.any() else counts[name],
        "sort": sort,
        "filters": filters,
        "page": page,
        "now": now,
        "channels": Channel.objects.filter(organization=membership.organization).order_by("name"),
    }
    template = "inbox/_queue_rows.html" if request.htmx else "inbox/queue.html"
    return render(request, template, context)
