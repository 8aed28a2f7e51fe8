"""Customer text that tries to run code is shown as text: no dialog, no request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import sign_in
from tests.inbox.conftest import complain

pytestmark = pytest.mark.usefixtures("transactional_db")
EVIL = (
    "<script>window.__pwned = 1; alert('script')</script> "
    "<img src=https://attacker.example/x.png onerror=\"alert('img')\"> "
    "<a href=\"javascript:alert('link')\">click me</a> "
    "invoice\u202egnp.exe"
)


def test_hostile_markup_is_shown_as_text(chromium: Any, live_server: Any, channel: Any) -> None:
    conversation = complain(channel, "x1", EVIL, "evil")
    page = sign_in(chromium, live_server.url, "owner@acme.example", "pw-owner-123")
    dialogs: list[str] = []
    foreign: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )

    for path in ("/o/acme/inbox/", "/o/acme/messages/", f"/o/acme/c/{conversation.number}/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__pwned") is None
        assert page.locator("a[href^='javascript:']").count() == 0
        assert page.locator("img[src*='attacker']").count() == 0

    text = page.inner_text(f"#m-{conversation.messages.get().code} .text")
    assert "<script>window.__pwned = 1;" in text
    assert "<a href=\"javascript:alert('link')\">click me</a>" in text
    assert "[U+202E]" in text
    assert dialogs == [] and foreign == []
