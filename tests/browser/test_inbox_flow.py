"""In a real browser: an agent answers a complaint, IT fixes it, the customer is told."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from earful.conversations.models import Conversation, Status
from earful.inbox.models import SlaClock
from earful.inbox.sla import check_sla
from earful.org.models import Department, Event, Role
from earful.org.services import add_member
from tests.browser.conftest import sign_in
from tests.inbox.conftest import complain

pytestmark = pytest.mark.usefixtures("transactional_db")
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def test_complaint_to_report_back(
    chromium: Any, live_server: Any, org: Any, channel: Any, screenshots: Path
) -> None:
    it = Department.objects.get(organization=org, slug="it")
    add_member(org, "ivy@acme.example", role=Role.AGENT, department=it, password="pw-ivy-123")
    recently = (timezone.now() - timedelta(minutes=5)).isoformat()
    complaint = complain(
        channel, "b1", "You charged me twice and now I cannot log in!", "c1", created_at=recently
    )
    complain(channel, "b2", "Thanks, the crew was lovely today", "c2", created_at=recently)
    check_sla(org, complaint.started_at)  # what the scheduler's tick does
    number = complaint.number

    agent = sign_in(chromium, live_server.url, "teammate@acme.example", "pw-mate-123", **DESKTOP)
    agent.click("nav.queues a[data-queue=unassigned]")
    agent.get_by_role("link", name=f"#{number} You charged me twice").wait_for()
    agent.screenshot(path=str(screenshots / "inbox.png"), full_page=True)
    agent.click(f"text=#{number} You charged me twice")
    agent.wait_for_url(f"**/c/{number}/")

    agent.keyboard.press("a")  # shortcut: assign to me
    agent.wait_for_selector("#assignee:has-text('teammate@acme.example')")
    agent.fill("#reply-text", "That's your own fault, you should have read the FAQ.")
    agent.wait_for_selector("#tone .warn")
    assert "customer_blaming" in agent.inner_text("#tone")
    agent.click("[data-use-suggestion]")
    agent.wait_for_selector("#tone .ok")
    agent.click("#composer button[type=submit]")
    agent.wait_for_selector("li.message.out .delivery")

    agent.select_option("select[name=department]", "it")
    agent.fill("textarea[name=question]", "Double charge and login failure, please check billing.")
    agent.click(".handoff-form button")
    agent.wait_for_selector("#status:has-text('Waiting on a department')")

    ivy = sign_in(chromium, live_server.url, "ivy@acme.example", "pw-ivy-123", **DESKTOP)
    ivy.goto("/o/acme/inbox/?queue=department")
    ivy.click(f"text=#{number} You charged me twice")
    ivy.fill("input[name=answer]", "Refunded the second charge and reset the login")
    ivy.click("text=Mark fixed")
    ivy.wait_for_selector(".handoff-fixed")

    agent.reload()
    draft = agent.input_value("form.report-back textarea")
    assert "IT team has fixed" in draft and "Refunded the second charge" in draft
    agent.click("form.report-back button")
    agent.wait_for_selector("form.report-back", state="detached")
    agent.keyboard.press("e")  # shortcut: resolve
    agent.wait_for_selector("#status:has-text('Resolved')")
    assert agent.inner_text("#clocks").count("stopped, met") == 2
    agent.screenshot(path=str(screenshots / "conversation.png"), full_page=True)

    phone = sign_in(
        chromium,
        live_server.url,
        "teammate@acme.example",
        "pw-mate-123",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
    )
    phone.goto(f"/o/acme/c/{number}/")
    phone.screenshot(path=str(screenshots / "conversation-phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED
    assert not SlaClock.objects.filter(conversation=complaint, stopped_at__isnull=True).exists()
    verbs = set(Event.objects.filter(target_id=str(complaint.code)).values_list("verb", flat=True))
    assert {
        "conversation.assigned",
        "conversation.replied",
        "handoff.requested",
        "handoff.fixed",
        "handoff.reported_back",
        "conversation.status_changed",
    } <= verbs
    assert Conversation.objects.get(pk=complaint.pk).messages.filter(direction="out").count() == 2
