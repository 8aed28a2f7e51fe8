"""Fixtures of the destinations suite: loopback fakes of the trackers and an IT hand-off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.channels.fakes import FakeServer


@pytest.fixture
def loopback(settings: Any) -> None:
    """Let the outbound guard reach 127.0.0.1, where the fake trackers listen (tests only)."""
    settings.EARFUL_HTTP_ALLOW_LOOPBACK = True


@pytest.fixture
def fake(loopback: None) -> Iterator[FakeServer]:
    """A started fake server; tests program its routes."""
    server = FakeServer()
    server.start()
    yield server
    server.stop()
