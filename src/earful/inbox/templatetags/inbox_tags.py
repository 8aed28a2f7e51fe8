"""Template helpers: http(s)-only links, visible direction-control characters, capped counts."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django import template

from earful.inbox.queues import COUNT_CAP

register = template.Library()

# Bidirectional overrides and isolates can make text read backwards; show where they are.
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f]")


@register.filter
def http_url(value: str) -> str:
    """The URL if it is http(s), else empty: javascript: and data: never become links."""
    try:
        scheme = urlsplit(str(value).strip()).scheme.lower()
    except ValueError:
        return ""
    return str(value).strip() if scheme in ("http", "https") else ""


@register.filter
def show_bidi(value: str) -> str:
    """Replace direction-control characters with a visible marker (autoescaped afterwards)."""
    return BIDI.sub(lambda m: f"[U+{ord(m.group(0)):04X}]", str(value))


@register.filter
def get_item(mapping: dict[str, object], key: str) -> object:
    """A dictionary's value by a key held in a variable."""
    return mapping.get(key, "")


@register.filter
def split(value: str) -> list[str]:
    """The words of a string, for short fixed lists in templates."""
    return str(value).split()


@register.filter
def capped(value: int) -> str:
    """A count from queues.capped_count: "1,000+" past COUNT_CAP, else the number."""
    if value > COUNT_CAP:
        return f"{COUNT_CAP:,}+"
    return f"{value:,}"
