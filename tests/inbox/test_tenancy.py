"""Nobody sees another organization's data: every tenant URL answers an outsider with 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.tenancy import tenant_urls

URLS = tenant_urls()


def test_the_walk_finds_the_tenant_urls() -> None:
    assert "/o/acme/messages/" in URLS
    assert "/api/v1/orgs/acme/messages" in URLS


@pytest.mark.parametrize("url", URLS)
def test_an_outsider_gets_404_everywhere(url: str, org: Any, outsider: Any, client: Client) -> None:
    client.force_login(outsider)

    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", URLS)
def test_a_stranger_must_sign_in(url: str, org: Any, client: Client) -> None:
    response = client.get(url)

    assert response.status_code in {302, 401}
    if response.status_code == 302:
        assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", URLS)
def test_a_member_gets_the_page(url: str, owner: Any, client: Client) -> None:
    client.force_login(owner)

    assert client.get(url).status_code == 200
