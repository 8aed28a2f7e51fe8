"""The default view is precomputed: read from a snapshot, refreshed by the tick."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from earful.insights import snapshots
from earful.insights.models import Snapshot
from earful.insights.tick import insights_tick
from tests.insights.conftest import say


def test_the_default_dashboard_is_read_from_a_snapshot_the_tick_refreshes(
    org: Any, channel: Any, client: Client, owner: Any
) -> None:
    now = timezone.now()
    say(channel, "a", now - timedelta(days=1), "hello", author="a", sentiment="neutral")
    client.force_login(owner)
    first = client.get("/o/acme/insights/").content.decode()
    assert 'id="as-of"' in first and "<td>1</td>" in first
    computed = Snapshot.objects.get(organization=org, key=snapshots.DASHBOARD).computed_at

    say(channel, "b", now - timedelta(hours=1), "hello again", author="b", sentiment="neutral")
    # Until the next refresh the page shows the snapshot; live numbers need a chosen range.
    assert Snapshot.objects.get(organization=org, key=snapshots.DASHBOARD).computed_at == computed
    later = now + snapshots.REFRESH + timedelta(minutes=1)
    insights_tick(later)
    tables, computed_at = snapshots.dashboard_snapshot(org, later)
    assert computed_at == later
    table = {t.slug: t for t in tables}["volume"]
    assert sum(row[-1] for row in table.rows if isinstance(row[-1], int)) == 2


def test_the_default_scorecard_is_read_from_a_snapshot(
    org: Any, client: Client, owner: Any
) -> None:
    client.force_login(owner)
    page = client.get("/o/acme/insights/scorecard/").content.decode()
    assert 'id="as-of"' in page and "Response rate, all customers" in page
    assert Snapshot.objects.filter(organization=org, key=snapshots.SCORECARD).exists()
