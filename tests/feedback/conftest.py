"""Fixtures of the feedback tests: the organization's board and an email channel."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def board(org: Any) -> Any:
    """Acme's public board (created with its channel on first use)."""
    from earful.feedback.board import board_for

    return board_for(org)


@pytest.fixture
def email_channel(org: Any) -> Any:
    """An email channel that can send (its outbox items are delivered by the test backend)."""
    from earful.channels.services import get_or_create_channel

    return get_or_create_channel(org, name="Support email", kind="email")


@pytest.fixture
def now() -> Any:
    """The present, for services that take it."""
    from django.utils import timezone

    return timezone.now()
