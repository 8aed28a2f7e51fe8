"""The channel status page: members see status and lag, escaped; outsiders get 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from earful.channels.models import Channel
from earful.channels.services import create_channel

pytestmark = pytest.mark.urls("tests.channels.status_urls")


@pytest.fixture
def failing(org: Any) -> Channel:
    channel = create_channel(
        org, name="<b>Forum</b>", kind="rss", settings={"url": "https://forum.example/feed"}
    )
    Channel.objects.filter(pk=channel.pk).update(
        last_success_at=timezone.now() - timedelta(minutes=10),
        failures=2,
        last_error="the feed answered <script>alert(1)</script>",
    )
    return channel


def test_a_member_sees_each_channel_with_its_error_escaped(failing: Channel, owner: Any) -> None:
    client = Client()
    client.force_login(owner)

    response = client.get("/o/acme/channels/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "&lt;b&gt;Forum&lt;/b&gt;" in page
    assert "failing (2)" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_htmx_gets_only_the_rows(failing: Channel, owner: Any) -> None:
    client = Client()
    client.force_login(owner)

    page = client.get("/o/acme/channels/", headers={"HX-Request": "true"}).content.decode()

    assert page.lstrip().startswith("<thead>")


def test_an_outsider_gets_404(failing: Channel, outsider: Any) -> None:
    client = Client()
    client.force_login(outsider)

    assert client.get("/o/acme/channels/").status_code == 404


def test_a_visitor_is_sent_to_sign_in(failing: Channel) -> None:
    assert Client().get("/o/acme/channels/").status_code == 302
