"""The channel status page: each channel's last fetch, error and lag, for the team."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from earful.channels.models import Channel
from earful.org.access import access_organization


@login_required
def channels_page(request: HttpRequest, org: str) -> HttpResponse:
    """List the organization's channels with their fetch status (refreshes itself)."""
    membership = access_organization(request.user, org)
    now = timezone.now()
    rows = [
        {
            "channel": channel,
            "lag": int((now - channel.last_success_at).total_seconds())
            if channel.last_success_at
            else None,
        }
        for channel in Channel.objects.filter(organization=membership.organization).order_by("name")
    ]
    template = (
        "channels/_status_rows.html"
        if request.headers.get("HX-Request")
        else "channels/status.html"
    )
    return render(
        request, template, {"organization": membership.organization, "rows": rows, "org": org}
    )
