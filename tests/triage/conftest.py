"""Fixtures for the triage tests (pure: no Django, no database)."""

from __future__ import annotations

import pytest

from earful.triage import Triager, load_triager


@pytest.fixture(scope="session")
def fast() -> Triager:
    """The committed fast model, loaded once."""
    return load_triager("fast")
