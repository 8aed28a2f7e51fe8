"""In a real browser: a customer finds a similar idea and votes; staff merge and ship it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from earful.channels.models import ChannelKind
from earful.channels.services import get_or_create_channel
from earful.feedback.board import board_for, post_idea, vote
from earful.feedback.ideas import link_message
from earful.feedback.models import IdeaSupporter
from earful.inbox.models import OutboxItem
from tests.browser.conftest import sign_in
from tests.feedback.helpers import BEN, CAL, tweet

pytestmark = pytest.mark.usefixtures("transactional_db")
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def test_vote_instead_merge_and_ship(
    chromium: Any, live_server: Any, org: Any, channel: Any, owner: Any, screenshots: Path
) -> None:
    email = get_or_create_channel(org, name="Support email", kind="email")
    board = board_for(org)
    seats = post_idea(board, BEN, "Let me pick my seat when I book in the app")
    twin = post_idea(board, CAL, "Seat map to choose seats on mobile")
    vote(twin, BEN)  # Ben wanted both: after the merge he counts once
    said = tweet(channel, "t1", "you should let us choose seats in the app when booking")
    link_message(said, seats, by=owner)

    customer = chromium.new_context(base_url=live_server.url, **DESKTOP).new_page()
    customer.set_default_timeout(15_000)
    customer.goto(f"/b/{board.slug}/")
    customer.fill("#idea-title", "Can I pick my seat in the app when booking?")
    suggested = customer.locator("[data-testid=similar] a", has_text=seats.title)
    suggested.wait_for()
    customer.screenshot(path=str(screenshots / "board-similar.png"), full_page=True)
    suggested.click()
    customer.wait_for_url(f"**/ideas/{seats.number}/**")
    customer.fill("#vote-name", "Dora Fay")
    customer.fill("#vote-email", "dora@example.com")
    customer.click("#vote button[type=submit]")
    customer.wait_for_selector("text=your vote counts")
    assert customer.inner_text("[data-testid=votes]") == "3"  # Ben, Sam on X, Dora

    staff = sign_in(chromium, live_server.url, "owner@acme.example", "pw-owner-123", **DESKTOP)
    staff.goto(f"/o/acme/feedback/ideas/{twin.number}/")
    staff.fill("#merge-into", str(seats.number))
    staff.get_by_role("button", name="Merge").click()
    staff.wait_for_url(f"**/feedback/ideas/{seats.number}/")
    assert staff.inner_text("[data-testid=supporter-count]") == "4"  # + Cal; Ben once

    staff.select_option("#idea-status", "shipped")
    staff.fill("#idea-response", "Seat picking is in the app from today.")
    staff.get_by_role("button", name="Save status").click()
    staff.wait_for_selector("[data-testid=supporters] >> text=not yet", state="detached")
    staff.screenshot(path=str(screenshots / "idea-shipped.png"), full_page=True)
    staff.get_by_role("button", name="Save status").click()  # shipped again: nobody is told twice
    staff.wait_for_selector("text=shipped → shipped")

    supporters = IdeaSupporter.objects.filter(idea=seats).select_related("notice__outbox")
    assert supporters.count() == 4
    items = OutboxItem.objects.select_related("channel", "parent")
    assert items.count() == 4
    assert {(i.channel.kind, i.recipient) for i in items if i.channel == email} == {
        (ChannelKind.EMAIL, "ben@example.com"),
        (ChannelKind.EMAIL, "cal@example.com"),
        (ChannelKind.EMAIL, "dora@example.com"),
    }
    on_x = items.get(channel=channel)
    assert on_x.parent == said
    assert {s.notice.outbox.pk for s in supporters} == {i.pk for i in items}
