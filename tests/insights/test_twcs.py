"""On the twcs slice beside the repo, the dashboard's brand median response time is 12.1 min.

The reference value is computed independently from the file's reply links: for every brand
tweet that answers a customer tweet, the minutes between the two; the median is 12.06.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from earful.channels.files import FileFormat
from earful.cli.importing import run_import
from earful.insights import rollups
from earful.org.models import Organization

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_the_brand_median_response_time(
    shared_data: Path, client: Client, owner: Any
) -> None:
    # What `earful import twcs_head.csv --format twcs --org acme` runs.
    run_import(
        shared_data / "twcs" / "twcs_head.csv",
        FileFormat.TWCS,
        org_slug="acme",
        channel_name=None,
        channel_kind=None,
        batch_size=1000,
    )
    client.force_login(owner)
    response = client.get("/o/acme/insights/?start=2008-01-01&end=2017-12-31")
    table = client.get(
        "/api/v1/orgs/acme/insights/tables/reply-time-by-channel?start=2008-01-01&end=2017-12-31"
    ).json()
    everyone = table["rows"][0]
    assert everyone[0] == "everyone" and everyone[2] == 12.1
    assert "<td>everyone</td><td>2188</td><td>12.1</td>" in response.content.decode()


def test_the_rolled_up_range_shows_the_same_median(
    shared_data: Path, client: Client, owner: Any
) -> None:
    run_import(
        shared_data / "twcs" / "twcs_head.csv",
        FileFormat.TWCS,
        org_slug="acme",
        channel_name=None,
        channel_kind=None,
        batch_size=1000,
    )
    organization = Organization.objects.get(slug="acme")
    # The tick of a later day rolls every day of the file up.
    assert rollups.roll(organization, datetime(2018, 1, 1, tzinfo=UTC)).days > 0
    client.force_login(owner)
    table = client.get(
        "/api/v1/orgs/acme/insights/tables/reply-time-by-channel?start=2008-01-01&end=2017-12-31"
    ).json()
    assert table["rows"][0][:3] == ["everyone", 2188, 12.1]
