"""In a real browser: a trainee's hostile reply is held, sent back, rewritten and approved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from earful.conversations.models import Direction
from earful.inbox.models import OutboxItem
from earful.inbox.review_models import DraftStatus, ReplyDraft
from earful.org.models import Event
from tests.browser.conftest import sign_in
from tests.inbox.conftest import complain

pytestmark = pytest.mark.usefixtures("transactional_db")
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
HOSTILE = "That's your own fault, you should have read the FAQ."
COMMENT = "Don't blame the customer: say sorry and offer the next step."
REWRITE = "Sorry about the double charge! I've asked billing to refund it today."


def test_a_trainees_hostile_reply_is_sent_back_rewritten_and_approved(
    chromium: Any, live_server: Any, org: Any, channel: Any, screenshots: Path
) -> None:
    complaint = complain(channel, "t1", "You charged me twice!", "c1")
    number = complaint.number

    manager = sign_in(chromium, live_server.url, "owner@acme.example", "pw-owner-123", **DESKTOP)
    manager.goto("/o/acme/team/")
    row = manager.locator("tr[data-member='teammate@acme.example']")
    row.locator("input[name=in_training]").check()
    row.locator("button[type=submit]").click()
    manager.wait_for_selector(
        "tr[data-member='teammate@acme.example'] .in-training:has-text('yes')"
    )

    trainee = sign_in(chromium, live_server.url, "teammate@acme.example", "pw-mate-123", **DESKTOP)
    trainee.goto(f"/o/acme/c/{number}/")
    trainee.fill("#reply-text", HOSTILE)
    trainee.wait_for_selector("#tone .warn")
    trainee.click("#composer button[type=submit]")
    held = trainee.locator(".reply-draft[data-status=held]")
    held.wait_for()
    assert "Held for review" in held.inner_text()
    assert "customer_blaming" in held.inner_text()
    assert trainee.locator("li.message.out").count() == 0

    manager.goto("/o/acme/reviews/")
    card = manager.locator("section.review")
    assert "customer_blaming" in card.inner_text() and "own fault" in card.inner_text()
    manager.screenshot(path=str(screenshots / "reviews.png"), full_page=True)
    card.locator("textarea[name=comment]").fill(COMMENT)
    card.locator("form.send-back button").click()
    manager.wait_for_selector("text=Nothing is waiting for your review.")

    trainee.reload()
    assert COMMENT in trainee.inner_text(".reviewer-comment")
    trainee.fill("form.resubmit textarea", REWRITE)
    trainee.click("form.resubmit button")
    trainee.wait_for_selector(".reply-draft[data-status=held]")
    assert "The tone guard found nothing." in trainee.inner_text(".reply-draft")

    manager.goto("/o/acme/reviews/")
    assert REWRITE in manager.input_value("form.approve textarea")
    manager.click("form.approve button")
    manager.wait_for_selector("text=Nothing is waiting for your review.")

    trainee.reload()
    trainee.wait_for_selector("li.message.out")
    assert trainee.locator(".reply-draft").count() == 0
    assert REWRITE in trainee.inner_text("li.message.out")

    manager.goto("/o/acme/team/")
    counts = manager.locator("tr[data-member='teammate@acme.example']")
    assert counts.locator(".drafts").inner_text() == "1"
    assert counts.locator(".first-time").inner_text() == "0"
    assert counts.locator(".sent-back").inner_text() == "1"
    manager.screenshot(path=str(screenshots / "team.png"), full_page=True)

    draft = ReplyDraft.objects.get()
    assert draft.status == DraftStatus.APPROVED and draft.message is not None
    (sent,) = complaint.messages.filter(direction=Direction.OUT)
    assert sent.sent_by is not None and sent.sent_by.email == "teammate@acme.example"
    assert OutboxItem.objects.filter(message=sent).count() == 1
    verbs = list(
        Event.objects.filter(organization=org, verb__startswith="reply.")
        .order_by("at", "pk")
        .values_list("verb", "actor__email")
    )
    assert verbs == [
        ("reply.held", "teammate@acme.example"),
        ("reply.sent_back", "owner@acme.example"),
        ("reply.resubmitted", "teammate@acme.example"),
        ("reply.approved", "owner@acme.example"),
    ]
