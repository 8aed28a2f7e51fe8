"""Fixtures of the channels suite: a loopback fake server that outbound calls may reach."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.channels.fakes import FakeServer


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """The org fixture creates members; a slow hasher would dominate this suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def loopback(settings: Any) -> None:
    """Let the outbound guard reach 127.0.0.1, where the fake networks listen (tests only)."""
    settings.EARFUL_HTTP_ALLOW_LOOPBACK = True


@pytest.fixture
def fake(loopback: None) -> Iterator[FakeServer]:
    """A started fake server; tests program its routes."""
    server = FakeServer()
    server.start()
    yield server
    server.stop()
