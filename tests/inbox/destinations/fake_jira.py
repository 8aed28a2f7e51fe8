"""Jira Cloud's REST API (v2) for issues and its signed admin webhooks, as documented, on a
loopback server."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.channels.fakes import FakeServer, Reply, Seen

FIXTURES = Path(__file__).resolve().parents[3] / "src/earful/inbox/destinations/fixtures/jira"
EMAIL = "earful-bot@acme.example"
API_TOKEN = "ATATT3xFfGF0-test-token-0000"
SECRET = "whsec-jira-0123456789abcdef"
PROJECT = "IT"
API = "/rest/api/2"
# The statuses of the project's workflow: id and status category key.
STATUSES = {
    "To Do": ("10000", "new"),
    "In Progress": ("3", "indeterminate"),
    "In Review": ("10003", "indeterminate"),
    "Done": ("10001", "done"),
    "Won't Do": ("10002", "done"),
}
RESOLUTIONS = {"Done": "10000", "Won't Do": "10001", "Duplicate": "10002"}


def fixture(name: str) -> Any:
    """One of the Jira payload fixtures, parsed."""
    return json.loads((FIXTURES / name).read_text())


def jira_time(when: datetime) -> str:
    """A time as Jira writes it (milliseconds, +0000)."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def _status(name: str) -> dict[str, Any]:
    status_id, category = STATUSES[name]
    return {
        "self": f"https://acme-air.atlassian.net{API}/status/{status_id}",
        "name": name,
        "id": status_id,
        "statusCategory": {"key": category, "name": category.title()},
    }


class FakeJira:
    """One project's issues: create, search by JQL, comments; auth, outages and rate limits."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.issues: dict[str, dict[str, Any]] = {}
        # "down" answers 503, "limited" the documented 429 with Retry-After, "" serves.
        self.mode = ""
        server.route("GET", f"{API}/project/{PROJECT}", self.authed(self.project))
        server.route("POST", f"{API}/issue", self.authed(self.create))
        server.route(
            "GET", f"{API}/field", self.authed(lambda s: (200, {}, fixture("fields.json")))
        )
        server.route("GET", f"{API}/search/jql", self.authed(self.search))
        # Data Center keeps the classic search (startAt and total), gone from Cloud.
        server.route("GET", f"{API}/search", self.authed(self.search_classic))

    def authed(self, handler: Any) -> Any:
        def check(seen: Seen) -> Reply:
            if self.mode == "down":
                return 503, {}, fixture("error_503.json")
            basic = base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
            # Cloud: email and API token; Data Center: a personal access token.
            if seen.headers.get("authorization") not in (f"Basic {basic}", f"Bearer {API_TOKEN}"):
                return 401, {}, fixture("error_401.json")
            if self.mode == "limited":
                headers = {
                    "Retry-After": "3600",
                    "X-RateLimit-Limit": "100",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": "2100-01-01T00:00Z",
                    "RateLimit-Reason": "jira-quota-tenant-based",
                }
                return 429, headers, fixture("error_429.json")
            return handler(seen)

        return check

    def project(self, seen: Seen) -> Reply:
        return 200, {}, fixture("project.json")

    def create(self, seen: Seen) -> Reply:
        fields = seen.json().get("fields", {})
        if not fields.get("summary"):
            return 400, {}, fixture("error_400.json")
        if fields.get("project") != {"key": PROJECT}:
            return 400, {}, {"errorMessages": [], "errors": {"project": "project is required"}}
        if fields.get("issuetype", {}).get("name") not in ("Task", "Bug"):
            return 400, {}, {"errorMessages": [], "errors": {"issuetype": "invalid issue type"}}
        number = 42 + len(self.issues)
        key = f"{PROJECT}-{number}"
        issue = fixture("issue.json")
        issue.update(
            id=str(10000 + number), key=key, self=f"https://acme-air.atlassian.net{API}/issue/{key}"
        )
        issue["fields"].update(
            summary=fields["summary"],
            description=fields.get("description", ""),
            labels=fields.get("labels", []),
            updated=jira_time(datetime.now(UTC)),
        )
        self.issues[key] = issue
        created = fixture("issue_created.json")
        created.update(id=issue["id"], key=key, self=issue["self"])
        return 201, {}, created

    def search_classic(self, seen: Seen) -> Reply:
        status, headers, page = self.search(seen)
        if status != 200:
            return status, headers, page
        start = int(seen.arg("startAt", "0"))
        size = int(seen.arg("maxResults", "50"))
        issues = page["issues"]
        return (
            200,
            {},
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": size,
                "total": len(issues),
                "issues": issues[start : start + size],
            },
        )

    def search(self, seen: Seen) -> Reply:
        jql = seen.arg("jql")
        project = re.search(r'project = "([A-Z0-9_]+)"', jql)
        recent = re.search(r"updated >= -(\d+)m", jql)
        if project is None or recent is None:
            return 400, {}, {"errorMessages": [f"The fake does not read {jql!r}"], "errors": {}}
        since = datetime.now(UTC) - timedelta(minutes=int(recent.group(1)))
        fields = seen.query.get("fields", [])
        found = [
            {
                "id": issue["id"],
                "key": issue["key"],
                "self": issue["self"],
                "fields": {k: v for k, v in issue["fields"].items() if k in fields},
            }
            for issue in self.issues.values()
            if issue["key"].startswith(f"{project.group(1)}-")
            and datetime.strptime(issue["fields"]["updated"], "%Y-%m-%dT%H:%M:%S.%f%z") >= since
        ]
        page = fixture("search_jql.json")
        page["issues"] = found
        return 200, {}, page

    def _touch(self, key: str) -> dict[str, Any]:
        issue = self.issues[key]
        issue["fields"]["updated"] = jira_time(datetime.now(UTC))
        return issue

    def transition(self, key: str, status: str, resolution: str | None = None) -> dict[str, Any]:
        """Move an issue to a status (resolving it); returns the jira:issue_updated body."""
        issue = self._touch(key)
        before = issue["fields"]["status"]
        issue["fields"]["status"] = _status(status)
        issue["fields"]["resolution"] = (
            {"id": RESOLUTIONS[resolution], "name": resolution} if resolution else None
        )
        payload = fixture("webhook_issue_updated.json")
        payload["issue"].update(id=issue["id"], key=key, self=issue["self"])
        payload["issue"]["fields"].update(
            status=copy.deepcopy(issue["fields"]["status"]),
            resolution=copy.deepcopy(issue["fields"]["resolution"]),
        )
        status_item = {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": before["id"],
            "fromString": before["name"],
            "to": STATUSES[status][0],
            "toString": status,
        }
        payload["changelog"]["items"] = [status_item]
        return payload

    def assign(self, key: str) -> dict[str, Any]:
        """Assign an issue to a developer; returns the jira:issue_updated body."""
        issue = self._touch(key)
        payload = fixture("webhook_issue_updated.json")
        payload["issue"].update(id=issue["id"], key=key, self=issue["self"])
        payload["issue"]["fields"].update(
            status=copy.deepcopy(issue["fields"]["status"]), resolution=None
        )
        payload["changelog"]["items"] = [
            {
                "field": "assignee",
                "fieldtype": "jira",
                "fieldId": "assignee",
                "from": None,
                "fromString": None,
                "to": "5d53f3cbc6b9320d9ea5bdc2",
                "toString": "Jo Dev",
            }
        ]
        return payload

    def comment(self, key: str, text: str) -> dict[str, Any]:
        """Comment on an issue; returns the comment_created body."""
        issue = self._touch(key)
        comment = fixture("comment.json")
        comment.update(body=text, created=issue["fields"]["updated"])
        comments = issue["fields"]["comment"]
        comments["comments"].append(comment)
        comments["total"] = comments["maxResults"] = len(comments["comments"])
        payload = fixture("webhook_comment_created.json")
        payload["comment"].update(copy.deepcopy(comment))
        payload["issue"].update(id=issue["id"], key=key, self=issue["self"])
        return payload


def signed(payload: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
    """The body and headers Jira sends for an admin webhook with a secret."""
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "data": body,
        "content_type": "application/json; charset=utf-8",
        "headers": {
            "X-Hub-Signature": signature,
            "X-Atlassian-Webhook-Identifier": str(uuid.uuid4().int % 10**12),
            "X-Atlassian-Webhook-Flow": "Primary",
            "User-Agent": "Atlassian Webhook HTTP Client",
        },
    }
