"""Every URL that names a tenant object, found by walking the URL configuration."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

# Values for each URL parameter, pointing at objects of the organization under test.
TENANT_PARAMETERS = {"org": "acme"}


def tenant_urls() -> list[str]:
    """Concrete paths of every route whose parameters all name tenant objects."""
    return sorted(set(_walk(get_resolver().url_patterns, "")))


def _walk(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
            continue
        names = pattern.pattern.regex.groupindex
        if names and set(names) <= set(TENANT_PARAMETERS):
            yield "/" + _fill(route)


def _fill(route: str) -> str:
    for name, value in TENANT_PARAMETERS.items():
        for converter in ("slug", "str", ""):
            token = f"<{converter}:{name}>" if converter else f"<{name}>"
            route = route.replace(token, value)
    return route.replace("^", "").replace("$", "")
