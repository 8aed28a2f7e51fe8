"""A Microsoft Teams incoming webhook, as documented, on a loopback server.

The classic webhook answers 200 with the body `1` when it posted the card, 400 with a
sentence for a body it cannot read, and 429 when the channel gets too many posts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.channels.fakes import FakeServer, Reply, Seen

FIXTURES = Path(__file__).resolve().parents[3] / "src/earful/inbox/destinations/fixtures/teams"
PATH = "/webhookb2/0a1b2c3d-acme@4e5f/IncomingWebhook/5f6e7d8c9b/0f1e2d3c"


def fixture(name: str) -> str:
    """One of the Teams answer fixtures, as text."""
    return (FIXTURES / name).read_text()


class FakeTeams:
    """One channel's incoming webhook; keeps the cards posted to it."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.cards: list[dict[str, Any]] = []
        # "down" answers 503, "limited" 429 with Retry-After, "gone" 404, "unreadable" the
        # 400 for a body it cannot read, "" posts.
        self.mode = ""
        server.route("POST", PATH, self.post)

    @property
    def url(self) -> str:
        """The webhook address to configure."""
        return self.server.url + PATH

    def post(self, seen: Seen) -> Reply:
        if self.mode == "down":
            return 503, {}, "Service Unavailable"
        if self.mode == "gone":
            return 404, {}, ""
        if self.mode == "limited":
            return 429, {"Retry-After": "45"}, fixture("error_429.txt")
        body = seen.json() if seen.body else None
        attachments = body.get("attachments") if isinstance(body, dict) else None
        if not attachments or self.mode == "unreadable":
            return 400, {}, fixture("error_400.txt")
        self.cards.append(attachments[0]["content"])
        return 200, {"Content-Type": "text/plain"}, fixture("webhook_ok.txt")
