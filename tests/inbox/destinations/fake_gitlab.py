"""GitLab's REST API (v4) for issues and its token-carrying webhooks, as documented, on a
loopback server."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.channels.fakes import FakeServer, Reply, Seen

FIXTURES = Path(__file__).resolve().parents[3] / "src/earful/inbox/destinations/fixtures/gitlab"
TOKEN = "glpat-test00000000000000"
WEBHOOK_TOKEN = "whtok-gitlab-0123456789abcdef"
PROJECT = "acme-air/router-firmware"
PROJECT_ID = 4217
# python-gitlab asks by the URL-encoded path, or by the numeric id the API answered with.
PROJECT_PATH = rf"/api/v4/projects/(?:acme-air%2Frouter-firmware|{PROJECT_ID})"


def fixture(name: str) -> Any:
    """One of the GitLab payload fixtures, parsed."""
    return json.loads((FIXTURES / name).read_text())


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class FakeGitlab:
    """One project's issues and notes: create, list updated after, notes; auth, outages and
    rate limits."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.issues: list[dict[str, Any]] = []
        self.notes: dict[int, list[dict[str, Any]]] = {}
        # "down" answers 500, "limited" the documented 429 with Retry-After, "" serves.
        self.mode = ""
        server.route(
            "GET", PROJECT_PATH, self.authed(lambda seen: (200, {}, fixture("project.json")))
        )
        server.route("POST", f"{PROJECT_PATH}/issues", self.authed(self.create))
        server.route("GET", f"{PROJECT_PATH}/issues", self.authed(self.list_issues))
        server.route("GET", rf"{PROJECT_PATH}/issues/(\d+)/notes", self.authed(self.list_notes))

    def authed(self, handler: Any) -> Any:
        def check(seen: Seen) -> Reply:
            if self.mode == "down":
                return 500, {}, fixture("error_500.json")
            if seen.headers.get("private-token") != TOKEN:
                return 401, {}, fixture("error_401.json")
            if self.mode == "limited":
                headers = {
                    "Content-Type": "text/plain",
                    "Retry-After": "3600",
                    "RateLimit-Limit": "600",
                    "RateLimit-Observed": "601",
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": "4102444800",
                    "RateLimit-ResetTime": "Fri, 01 Jan 2100 00:00:00 GMT",
                }
                return 429, headers, (FIXTURES / "error_429.txt").read_text()
            return handler(seen)

        return check

    def create(self, seen: Seen) -> Reply:
        body = seen.json()
        if not body.get("title"):
            return 400, {}, {"error": "title is missing"}
        issue = fixture("issue.json")
        iid = 87 + len(self.issues)
        labels = [label for label in str(body.get("labels", "")).split(",") if label]
        issue.update(
            id=148220 + iid,
            iid=iid,
            title=body["title"],
            description=body.get("description", ""),
            labels=labels,
            updated_at=_now(),
            web_url=f"https://gitlab.com/{PROJECT}/-/issues/{iid}",
        )
        self.issues.append(issue)
        return 201, {}, issue

    def list_issues(self, seen: Seen) -> Reply:
        iids = {int(i) for i in seen.query.get("iids[]", [])}
        after = seen.arg("updated_after")
        since = datetime.fromisoformat(after.replace("Z", "+00:00")) if after else None
        found = [
            issue
            for issue in self.issues
            if (not iids or issue["iid"] in iids)
            and (
                since is None
                or datetime.fromisoformat(issue["updated_at"].replace("Z", "+00:00")) >= since
            )
        ]
        return 200, {}, found

    def list_notes(self, seen: Seen) -> Reply:
        iid = int(seen.path.rsplit("/", 2)[-2])
        return 200, {}, self.notes.get(iid, [])

    def _issue(self, iid: int) -> dict[str, Any]:
        return next(i for i in self.issues if i["iid"] == iid)

    def _hook(self, name: str, issue: dict[str, Any]) -> dict[str, Any]:
        payload = fixture(name)
        payload["object_attributes"].update(
            iid=issue["iid"], id=issue["id"], title=issue["title"], state=issue["state"]
        )
        payload["labels"] = [
            {"id": 206, "title": label, "type": "ProjectLabel"} for label in issue["labels"]
        ]
        payload["object_attributes"]["labels"] = copy.deepcopy(payload["labels"])
        return payload

    def close(self, iid: int, *labels: str) -> dict[str, Any]:
        """Close an issue as a developer would (adding labels); returns the Issue Hook body."""
        issue = self._issue(iid)
        issue.update(state="closed", closed_at=_now(), updated_at=_now())
        issue["labels"] = [*issue["labels"], *labels]
        return self._hook("issue_hook_closed.json", issue)

    def reopen(self, iid: int) -> dict[str, Any]:
        """Reopen an issue; returns the Issue Hook body."""
        issue = self._issue(iid)
        issue.update(state="opened", closed_at=None, updated_at=_now())
        payload = self._hook("issue_hook_closed.json", issue)
        payload["object_attributes"].update(action="reopen", state="opened", closed_at=None)
        payload["changes"] = {"state_id": {"previous": 2, "current": 1}}
        return payload

    def assign(self, iid: int) -> dict[str, Any]:
        """Assign an issue to a developer; returns the Issue Hook body."""
        issue = self._issue(iid)
        issue.update(assignees=[fixture("note.json")["author"]], updated_at=_now())
        return self._hook("issue_hook_assigned.json", issue)

    def comment(self, iid: int, text: str) -> dict[str, Any]:
        """Comment on an issue; returns the Note Hook body."""
        issue = self._issue(iid)
        note = fixture("note.json")
        note.update(body=text, noteable_iid=iid, created_at=_now(), updated_at=_now())
        self.notes.setdefault(iid, []).append(note)
        issue["updated_at"] = _now()
        payload = fixture("note_hook_issue.json")
        payload["object_attributes"].update(note=text, description=text)
        payload["issue"].update(iid=iid, id=issue["id"], state=issue["state"])
        return payload


def hook(
    event: str,
    payload: dict[str, Any],
    token: str | None = WEBHOOK_TOKEN,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """The body and headers GitLab sends for a webhook delivery (its token, if any)."""
    headers = {
        "X-Gitlab-Event": event,
        "X-Gitlab-Instance": "https://gitlab.com",
        "X-Gitlab-Webhook-UUID": "2c6b6e0a-3f0e-4d61-9d3a-1b1f0c6b7a11",
        "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        "User-Agent": "GitLab/17.6.0-pre",
    }
    if token is not None:
        headers["X-Gitlab-Token"] = token
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return {
        "data": json.dumps(payload).encode(),
        "content_type": "application/json",
        "headers": headers,
    }
