"""Feedback objects for the tenancy walk: a value for each URL parameter its routes add."""

from __future__ import annotations

from typing import Any

PARAMETERS: frozenset[str] = frozenset()


def make_values(organization: Any, owner: Any) -> dict[str, str]:
    """Values for PARAMETERS, made in the organization of the walk."""
    return {}
