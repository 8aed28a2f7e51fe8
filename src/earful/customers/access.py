"""Fetching a customer, merge or link suggestion of an organization: 404 if not theirs."""

from __future__ import annotations

from django.http import Http404

from earful.conversations.access import parse_code
from earful.customers.models import Customer, CustomerMerge, LinkSuggestion
from earful.org.models import Organization


def access_customer(organization: Organization, code: str) -> Customer:
    """The organization's customer with that code."""
    try:
        return Customer.objects.get(organization=organization, code=parse_code(code))
    except Customer.DoesNotExist:
        raise Http404("no such customer") from None


def access_merge(organization: Organization, code: str) -> CustomerMerge:
    """The organization's customer merge with that code."""
    try:
        return CustomerMerge.objects.get(organization=organization, code=parse_code(code))
    except CustomerMerge.DoesNotExist:
        raise Http404("no such merge") from None


def access_suggestion(organization: Organization, code: str) -> LinkSuggestion:
    """The organization's link suggestion with that code."""
    try:
        return LinkSuggestion.objects.get(organization=organization, code=parse_code(code))
    except LinkSuggestion.DoesNotExist:
        raise Http404("no such suggestion") from None
