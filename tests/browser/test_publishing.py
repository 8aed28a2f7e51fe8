"""In a real browser: a manager schedules a post; at its time it is held because an urgent
complaint on its channel waited past the threshold; an agent answers the complaint; the post
then goes out once through the channel's local server; the promote share changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from earful.channels.services import create_channel
from earful.conversations.models import Conversation
from earful.inbox.outbox import deliver_due
from earful.insights import snapshots
from earful.org.models import Event
from earful.pipeline.ingest import ingest_batch
from earful.publishing.models import Post, PostState
from earful.publishing.services import publish_due
from tests.browser.conftest import sign_in
from tests.channels.fakes import FakeServer
from tests.helpers import numbered, record
from tests.publishing.fake_mastodon import FakeMastodon

pytestmark = pytest.mark.usefixtures("transactional_db")
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
POST = "Which city should our next lounge open in? Tell us below"
BRAND = {"external_id": "acmeair", "handle": "acmeair"}
# Our posts of the last weeks, as an import brought them: 1 promotional of 5 (20 %).
PAST = (
    "Flash sale: 30% off every flight to Porto this weekend",
    "Thanks to everyone who flew with us through the storm",
    "Tip: check in online up to 24 h before departure",
    "Our crew of the month is Maria from Lisbon",
    "What snacks would you like on board? We are listening",
)


@pytest.fixture
def instance(settings: Any) -> Iterator[FakeMastodon]:
    settings.EARFUL_HTTP_ALLOW_LOOPBACK = True
    server = FakeServer()
    server.start()
    yield FakeMastodon(server)
    server.stop()


def promote_share(page: Any) -> str:
    page.goto("/o/acme/insights/scorecard/")
    return str(page.inner_text("table.scorecard tr:has-text('Promotional share') td.value"))


def test_a_scheduled_post_waits_for_the_complaint_then_goes_out_once(
    chromium: Any, live_server: Any, org: Any, instance: FakeMastodon, screenshots: Path
) -> None:
    mastodon = create_channel(org, name="Mastodon", kind="mastodon", settings=instance.settings())
    now = timezone.now()
    ingest_batch(
        mastodon,
        numbered(
            [
                record(
                    f"11340000000000000{n}",
                    text,
                    direction="out",
                    author=BRAND,
                    created_at=(now - timedelta(days=n + 1)).isoformat(),
                )
                for n, text in enumerate(PAST)
            ]
            + [
                record(
                    "113500000000000042",
                    "URGENT my flight was cancelled and nobody answers, this is terrible service",
                    author={"external_id": "ana", "handle": "ana", "display_name": "Ana Lima"},
                    created_at=(now - timedelta(minutes=30)).isoformat(),
                )
            ]
        ),
    )
    complaint = Conversation.objects.get(messages__external_id="113500000000000042")

    manager = sign_in(chromium, live_server.url, "owner@acme.example", "pw-owner-123", **DESKTOP)
    assert promote_share(manager) == "20 % of 5 posts"
    manager.click("nav.main-nav >> text=Publish")
    manager.wait_for_url("**/o/acme/publish/")
    manager.fill("#id_text", POST)
    manager.wait_for_selector("fieldset.preview .count:has-text('56 / 500')")
    at = (now + timedelta(minutes=40)).replace(second=0, microsecond=0)
    manager.fill("input[name=scheduled_at]", at.strftime("%Y-%m-%dT%H:%M"))
    manager.click("button[value=schedule]")
    manager.wait_for_selector("#post-state:has-text('Scheduled')")
    post = Post.objects.get()
    assert post.scheduled_at == at

    # The tick at the post's time: the complaint has now waited 70 minutes (threshold 60).
    publish_due(at + timedelta(seconds=30))
    manager.reload()
    manager.wait_for_selector("#post-state:has-text('Held')")
    assert "waited more than 60 min" in manager.inner_text(".hold-reasons")
    manager.screenshot(path=str(screenshots / "publishing-held.png"), full_page=True)
    assert instance.created == []

    agent = sign_in(chromium, live_server.url, "teammate@acme.example", "pw-mate-123", **DESKTOP)
    agent.goto(f"/o/acme/publish/{post.code}/")
    agent.click(f".hold-reason a:has-text('#{complaint.number}')")
    agent.wait_for_url(f"**/c/{complaint.number}/")
    agent.fill("#reply-text", "So sorry Ana, we have rebooked you on the 14:05 to Porto.")
    agent.click("#composer button[type=submit]")
    agent.wait_for_selector("li.message.out .delivery")

    later = at + timedelta(minutes=2)
    publish_due(later)  # the gate finds nothing waiting: the post is queued in the outbox
    deliver_due(later)  # the outbox's pass sends it
    publish_due(later)  # and the post reads published
    manager.reload()
    manager.wait_for_selector("#post-state:has-text('Published')")
    assert "Sent" in manager.inner_text("table.targets")
    manager.screenshot(path=str(screenshots / "publishing-published.png"), full_page=True)

    posts = [s for s in instance.created if s["in_reply_to_id"] is None]
    assert [s["content"] for s in posts] == [f"<p>{POST}</p>"]
    keys = [s.headers["idempotency-key"] for s in instance.server.requests_to("/api/v1/statuses")]
    assert len(keys) == len(set(keys)) == 2  # the agent's reply and the post, once each
    assert Post.objects.get().state == PostState.PUBLISHED
    verbs = list(Event.objects.filter(target_id=str(post.code)).values_list("verb", flat=True))
    assert verbs == [
        "post.drafted",
        "post.scheduled",
        "post.held",
        "post.publishing",
        "post.published",
    ]

    # The insights tick refreshes the scorecard: 1 promotional post of 6 now.
    snapshots.refresh(org, later + timedelta(seconds=1), force=True)
    assert promote_share(manager) == "16.7 % of 6 posts"
