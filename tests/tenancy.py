"""Every route that names a tenant object, found by walking the URL configuration."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

from tests.feedback import tenancy_values as feedback_values
from tests.insights import tenancy_values as insights_values
from tests.publishing import tenancy_values as publishing_values

# Every URL parameter that names something of an organization; tests give each a value.
TENANT_PARAMETERS = frozenset(
    {
        "org",
        "number",
        "into",
        "message",
        "event",
        "customer",
        "target",
        "merge",
        "suggestion",
        "decision",
        "code",
        "handoff",
        "playbook",
        "department",
        "destination",
        "draft",
    }
    | feedback_values.PARAMETERS
    | insights_values.PARAMETERS
    | publishing_values.PARAMETERS
)
_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def tenant_routes() -> list[str]:
    """Route templates (e.g. /o/<org>/messages/) whose parameters all name tenant objects."""
    return sorted(set(_walk(get_resolver().url_patterns, "")))


def fill(route: str, values: dict[str, str]) -> str:
    """A concrete path for a route template."""
    return _PARAMETER.sub(lambda match: values[match.group(1)], route)


def _walk(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
            continue
        names = set(_PARAMETER.findall(route))
        if names and "org" in names and names <= TENANT_PARAMETERS:
            yield "/" + route.replace("^", "").replace("$", "")
