"""Shared fixtures: an organization with an owner and a teammate, and an outsider from another."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

# Keep the test databases and files out of the developer's ./var.
os.environ.setdefault("EARFUL_HOME", tempfile.mkdtemp(prefix="earful-test-"))

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Hash test passwords cheaply: the real hasher costs ~0.3 s per user, per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shared_data() -> Path:
    """The public labeled data beside the repo; tests that need it skip clearly without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the public data in {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def org(db: None) -> Any:
    from earful.org.models import Role
    from earful.org.services import add_member, create_organization

    organization = create_organization("Acme Air", "acme")
    add_member(organization, "owner@acme.example", role=Role.ADMIN, password="pw-owner-123")
    add_member(organization, "teammate@acme.example", role=Role.AGENT, password="pw-mate-123")
    return organization


@pytest.fixture
def other_org(db: None) -> Any:
    from earful.org.models import Role
    from earful.org.services import add_member, create_organization

    organization = create_organization("Rival Rail", "rival")
    add_member(organization, "outsider@rival.example", role=Role.ADMIN, password="pw-out-123")
    return organization


@pytest.fixture
def channel(org: Any) -> Any:
    from earful.channels.services import get_or_create_channel

    return get_or_create_channel(org, name="X", kind="x")


@pytest.fixture
def owner(org: Any) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="owner@acme.example")


@pytest.fixture
def outsider(other_org: Any) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="outsider@rival.example")
