"""In a real browser: the insights dashboard draws its charts (no CDN) and the scorecard reads.

The screenshots land in docs/ (dashboard.png, scorecard.png), where people look at them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from earful.demo.setup import DEMO_EMAIL, DEMO_PASSWORD, create_demo
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.usefixtures("transactional_db")
DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEW = {"viewport": {"width": 1280, "height": 900}}


def test_dashboard_and_scorecard_render_in_chromium(chromium: Any, live_server: Any) -> None:
    create_demo(threads=400)
    page = sign_in(chromium, live_server.url, DEMO_EMAIL, DEMO_PASSWORD, **VIEW)
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    page.click("nav.main-nav >> text=Insights")
    page.wait_for_url("**/o/demo/insights/")
    page.wait_for_function("document.body.dataset.chartsDrawn === 'true'")
    # Every chart with data is drawn as SVG by plotly.js, next to its table.
    drawn = page.locator("section.insight .chart .main-svg").count()
    assert drawn >= 10
    assert "Brightwave" not in page.inner_text("#volume h2")  # titles are ours, not customers'
    page.screenshot(path=str(DOCS / "dashboard.png"))

    page.click("nav.insights-nav >> text=Scorecard")
    page.wait_for_url("**/insights/scorecard/")
    assert page.locator("table.scorecard tbody tr").count() == 8
    page.screenshot(path=str(DOCS / "scorecard.png"))
    assert foreign == []  # plotly.js comes from earful itself
