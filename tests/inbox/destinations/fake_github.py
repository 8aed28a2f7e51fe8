"""GitHub's REST API for issues and its signed webhooks, as documented, on a loopback server."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from tests.channels.fakes import FakeServer, Reply, Seen

FIXTURES = Path(__file__).resolve().parents[3] / "src/earful/inbox/destinations/fixtures/github"
TOKEN = "ghp_test0000000000000000000000000000"
SECRET = "whsec-github-0123456789abcdef"
REPOSITORY = "acme-air/router-firmware"


def fixture(name: str) -> Any:
    """One of the GitHub payload fixtures, parsed."""
    return json.loads((FIXTURES / name).read_text())


class FakeGithub:
    """One repository's issues: create, list since, comments; auth, outages and rate limits."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.issues: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        # "down" answers 503, "limited" the documented rate-limit 403, "" serves normally.
        self.mode = ""
        repo = f"/repos/{REPOSITORY}"
        server.route("GET", repo, self.authed(lambda seen: (200, {}, fixture("repository.json"))))
        server.route("POST", f"{repo}/issues", self.authed(self.create))
        server.route("GET", f"{repo}/issues", self.authed(self.list_issues))
        server.route("GET", f"{repo}/issues/comments", self.authed(self.list_comments))

    def authed(self, handler: Any) -> Any:
        def check(seen: Seen) -> Reply:
            if self.mode == "down":
                return 503, {}, {"message": "Service Unavailable"}
            if seen.headers.get("authorization") != f"token {TOKEN}":
                return 401, {}, fixture("error_401.json")
            if self.mode == "limited":
                headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800"}
                return 403, headers, fixture("error_rate_limit.json")
            return handler(seen)

        return check

    def create(self, seen: Seen) -> Reply:
        body = seen.json()
        if not body.get("title"):
            return 422, {}, fixture("error_422.json")
        issue = fixture("issue.json")
        number = 1347 + len(self.issues)
        issue.update(
            number=number,
            title=body["title"],
            body=body.get("body", ""),
            labels=[{"name": name} for name in body.get("labels", [])],
            html_url=f"https://github.com/{REPOSITORY}/issues/{number}",
            url=f"https://api.github.com/repos/{REPOSITORY}/issues/{number}",
        )
        self.issues.append(issue)
        return 201, {}, issue

    def list_issues(self, seen: Seen) -> Reply:
        state = seen.arg("state", "open")
        return 200, {}, [i for i in self.issues if state in ("all", i["state"])]

    def list_comments(self, seen: Seen) -> Reply:
        return 200, {}, self.comments

    def close(self, number: int, reason: str = "completed") -> dict[str, Any]:
        """Close an issue as a developer would; returns the `issues` webhook payload."""
        issue = next(i for i in self.issues if i["number"] == number)
        issue.update(state="closed", state_reason=reason, closed_at="2026-11-02T14:30:00Z")
        payload = fixture("issues_closed.json")
        payload["issue"].update(copy.deepcopy(issue))
        return payload

    def comment(self, number: int, text: str) -> dict[str, Any]:
        """Comment on an issue; returns the `issue_comment` webhook payload."""
        payload = fixture("issue_comment_created.json")
        payload["issue"]["number"] = number
        payload["comment"].update(
            body=text, issue_url=f"https://api.github.com/repos/{REPOSITORY}/issues/{number}"
        )
        self.comments.append(payload["comment"])
        return payload


def signed(event: str, payload: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
    """The body and headers GitHub sends for a webhook delivery, signed with the secret."""
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "data": body,
        "content_type": "application/json",
        "headers": {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "X-Hub-Signature-256": signature,
            "User-Agent": "GitHub-Hookshot/044aadd",
        },
    }
