"""Insights objects for the tenancy walk: a value for each URL parameter its routes add."""

from __future__ import annotations

from typing import Any

PARAMETERS: frozenset[str] = frozenset({"table", "endpoint"})


def make_values(organization: Any, owner: Any) -> dict[str, str]:
    """Values for PARAMETERS, made in the organization of the walk."""
    from earful.insights.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        organization=organization, url="https://hooks.example.com/earful", secret="s" * 64
    )
    return {"table": "volume", "endpoint": str(endpoint.code)}
