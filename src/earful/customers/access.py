"""Fetching a customer, merge or link suggestion of an organization: 404 if not theirs."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from earful.conversations.access import parse_code
from earful.customers.models import Customer, CustomerMerge, LinkSuggestion
from earful.org.models import Organization


def access_customer(organization: Organization, code: str) -> Customer:
    """The organization's customer with that code."""
    return get_object_or_404(Customer, organization=organization, code=parse_code(code))


def access_merge(organization: Organization, code: str) -> CustomerMerge:
    """The organization's customer merge with that code."""
    return get_object_or_404(CustomerMerge, organization=organization, code=parse_code(code))


def access_suggestion(organization: Organization, code: str) -> LinkSuggestion:
    """The organization's link suggestion with that code."""
    return get_object_or_404(LinkSuggestion, organization=organization, code=parse_code(code))
