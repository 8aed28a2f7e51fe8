"""Locust users for `earful bench inbox --load-seconds N`: agents working the inbox.

Each user is a signed-in agent (the session comes from EARFUL_LOAD_SESSION) who opens the
queue, a conversation, searches and looks at the dashboard, with a pause between clicks.
"""

from __future__ import annotations

import os
import random

from locust import HttpUser, between, task

ORG = os.environ.get("EARFUL_LOAD_ORG", "bench")
CONVERSATIONS = int(os.environ.get("EARFUL_LOAD_CONVERSATIONS", "1"))
WORDS = os.environ.get("EARFUL_LOAD_WORDS", "refund").split(",")


class Agent(HttpUser):
    """One agent at work: mostly the queue and conversations, sometimes search and charts."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        """Use the bench's signed-in session."""
        self.client.cookies.set("sessionid", os.environ["EARFUL_LOAD_SESSION"])

    @task(4)
    def queue(self) -> None:
        """The unassigned queue, then its htmx refresh."""
        self.client.get(f"/o/{ORG}/inbox/?queue=all", name="inbox queue")
        self.client.get(
            f"/o/{ORG}/inbox/?queue=all", headers={"HX-Request": "true"}, name="inbox rows"
        )

    @task(3)
    def conversation(self) -> None:
        """A conversation page."""
        number = random.randint(1, CONVERSATIONS)  # noqa: S311 - load, not secrets
        self.client.get(f"/o/{ORG}/c/{number}/", name="conversation")

    @task(2)
    def search(self) -> None:
        """Full-text search from the inbox."""
        word = random.choice(WORDS)  # noqa: S311 - load, not secrets
        self.client.get(f"/o/{ORG}/inbox/?queue=all&q={word}", name="search")

    @task(1)
    def dashboard(self) -> None:
        """The insights dashboard."""
        self.client.get(f"/o/{ORG}/insights/", name="dashboard")
