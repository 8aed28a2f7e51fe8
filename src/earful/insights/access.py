"""Fetching an organization's insight objects: 404 for missing and forbidden alike."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from earful.conversations.access import parse_code
from earful.insights.models import Alert, WebhookEndpoint
from earful.org.models import Organization


def access_endpoint(organization: Organization, code: str) -> WebhookEndpoint:
    """The organization's webhook endpoint with that code."""
    return get_object_or_404(WebhookEndpoint, organization=organization, code=parse_code(code))


def access_alert(organization: Organization, code: str) -> Alert:
    """The organization's alert with that code."""
    return get_object_or_404(Alert, organization=organization, code=parse_code(code))
