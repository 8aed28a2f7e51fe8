"""The insight pages, CSV exports and API routes: members see numbers, bad filters get 400."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from django.test import Client

from earful.insights.models import InsightSettings, WebhookEndpoint
from earful.org.models import Event
from tests.insights.conftest import World, say

RANGE = "start=2026-10-01&end=2026-11-02"


def test_the_dashboard_shows_each_table_with_its_chart_data(
    world: World, client: Client, owner: Any
) -> None:
    client.force_login(owner)
    response = client.get(f"/o/acme/insights/?{RANGE}")
    assert response.status_code == 200
    page = response.content.decode()
    for slug in ("volume", "sentiment", "response-rate", "reply-time-by-channel", "fairness"):
        assert f'id="{slug}"' in page
        assert f"/o/acme/insights/{slug}.csv?" in page
    assert 'id="chart-volume" type="application/json"' in page
    assert "/insights/plotly.min.js" in page
    assert "reply-time-by-agent" not in page  # one breakdown at a time


def test_the_dashboard_breaks_response_times_down_by_agent(
    world: World, client: Client, owner: Any
) -> None:
    client.force_login(owner)
    page = client.get(f"/o/acme/insights/?{RANGE}&by=agent").content.decode()
    assert 'id="reply-time-by-agent"' in page and 'id="reply-time-by-channel"' not in page


def test_bad_filters_are_refused_with_a_reason(world: World, client: Client, owner: Any) -> None:
    client.force_login(owner)
    response = client.get("/o/acme/insights/?start=yesterday")
    assert response.status_code == 400
    assert "start must be a date like 2026-11-01" in response.content.decode()
    assert client.get("/o/acme/insights/?channel=nope").status_code == 400
    assert client.get("/o/acme/insights/?start=2026-11-02&end=2026-11-01").status_code == 400
    assert client.get("/o/acme/insights/?by=mood").status_code == 400


def test_the_channel_filter_narrows_the_numbers(world: World, client: Client, owner: Any) -> None:
    client.force_login(owner)
    response = client.get(f"/o/acme/insights/volume.csv?{RANGE}&channel={world.forum.code}")
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["day", "Forum", "total"],
        ["2026-10-31", "1", "1"],
    ]


def test_every_table_downloads_as_csv(world: World, client: Client, owner: Any) -> None:
    client.force_login(owner)
    response = client.get(f"/o/acme/insights/response-rate.csv?{RANGE}")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="acme-response-rate.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1] == ["all channels", "3", "2", "66.7"]
    assert client.get("/o/acme/insights/no-such-table.csv").status_code == 404


def test_csv_cells_that_look_like_formulas_are_defused(
    org: Any, channel: Any, client: Client, owner: Any
) -> None:
    say(channel, "t", channel.created_at, "hi", author="a", topic="=HYPERLINK(1)")
    client.force_login(owner)
    start = channel.created_at.date().isoformat()
    body = client.get(f"/o/acme/insights/topics.csv?start={start}").content.decode()
    assert "'=HYPERLINK(1)" in body


def test_the_scorecard_explains_each_line(world: World, client: Client, owner: Any) -> None:
    client.force_login(owner)
    page = client.get(f"/o/acme/insights/scorecard/?{RANGE}").content.decode()
    for line in (
        "Response rate, all customers",
        "Fairness gap by audience",
        "Hand-offs answered",
        "Reported back to the customer",
        "Detractors turned",
        "Promotional share",
    ):
        assert line in page
    assert "66.7 %" in page and "100 points" in page
    assert "What to do" in page


def test_the_api_serves_tables_and_the_scorecard(world: World, client: Client, owner: Any) -> None:
    client.force_login(owner)
    names = client.get("/api/v1/orgs/acme/insights/tables").json()
    assert "fairness" in names and "scorecard" in names
    table = client.get(f"/api/v1/orgs/acme/insights/tables/response-rate?{RANGE}").json()
    assert table["columns"] == ["channel", "conversations", "answered", "response rate %"]
    assert table["rows"][0] == ["all channels", 3, 2, 66.7]
    bad = client.get("/api/v1/orgs/acme/insights/tables/volume?start=soon")
    assert bad.status_code == 400 and "must be a date" in bad.json()["detail"]
    scores = client.get(f"/api/v1/orgs/acme/insights/scorecard?{RANGE}").json()
    assert scores[0]["name"] == "Response rate, all customers" and scores[0]["value"] == "66.7 %"


def test_managers_add_and_remove_webhooks_and_the_secret_is_shown_once(
    org: Any, client: Client, owner: Any
) -> None:
    client.force_login(owner)
    made = client.post(
        "/api/v1/orgs/acme/insights/webhooks",
        {"url": "https://hooks.example.com/a", "verbs": ["alert."]},
        content_type="application/json",
    )
    assert made.status_code == 201 and len(made.json()["secret"]) == 64
    listed = client.get("/api/v1/orgs/acme/insights/webhooks").json()
    assert listed == [
        {
            "code": made.json()["code"],
            "url": "https://hooks.example.com/a",
            "verbs": ["alert."],
            "enabled": True,
        }
    ]
    gone = client.delete(f"/api/v1/orgs/acme/insights/webhooks/{made.json()['code']}")
    assert gone.status_code == 204 and not WebhookEndpoint.objects.exists()
    assert Event.objects.filter(verb__in=["webhook.added", "webhook.removed"]).count() == 2


def test_agents_cannot_change_webhooks_or_thresholds(org: Any, client: Client) -> None:
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="teammate@acme.example"))
    refused = client.post(
        "/api/v1/orgs/acme/insights/webhooks",
        {"url": "https://hooks.example.com/a"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "only managers" in refused.json()["detail"]
    response = client.post(
        "/o/acme/insights/thresholds/",
        {"promo_percent": "30", "ageing_hours": "4", "spread_replies": "5"},
        follow=True,
    )
    assert "only managers" in response.content.decode()
    assert not InsightSettings.objects.exists()


def test_the_promotion_threshold_is_set_per_organization(
    org: Any, client: Client, owner: Any
) -> None:
    client.force_login(owner)
    client.post(
        "/o/acme/insights/thresholds/",
        {"promo_percent": "35", "ageing_hours": "6", "spread_replies": "8"},
    )
    stored = InsightSettings.objects.get(organization=org)
    assert (stored.promo_threshold, stored.ageing_hours, stored.spread_replies) == (0.35, 6, 8)
    bad = client.put(
        "/api/v1/orgs/acme/insights/settings",
        {"promo_threshold": 3},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "between 0 and 1" in bad.json()["detail"]


def test_alerts_page_lists_alerts_and_escapes_customer_text(
    org: Any, channel: Any, client: Client, owner: Any
) -> None:
    from earful.insights.alerts import check_alerts
    from tests.insights.conftest import NOW

    for n in range(12):
        say(channel, f"v{n}", NOW, "<script>alert(1)</script>", author=f"a{n}", sentiment="neutral")
    check_alerts(org, NOW + timedelta(minutes=1))
    client.force_login(owner)
    page = client.get("/o/acme/insights/alerts/").content.decode()
    assert "Volume spike" in page and "12 customer messages in the last hour" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_the_chart_library_is_served_without_a_cdn(client: Client) -> None:
    response = client.get("/insights/plotly.min.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript"
    assert b"plotly" in response.getvalue()[:2000].lower()


def test_the_scorecard_warns_when_promotion_is_above_the_threshold(
    org: Any, channel: Any, client: Client, owner: Any
) -> None:
    from django.utils import timezone

    yesterday = timezone.now() - timedelta(days=1)
    say(channel, "p1", yesterday, "Summer sale: 30% off every plan")
    say(channel, "p2", yesterday, "Tip: restart the router after the update")
    client.force_login(owner)
    page = client.get("/o/acme/insights/scorecard/").content.decode()
    assert 'class="warn-banner"' in page and "Promotion is 50 % of 2 posts" in page
