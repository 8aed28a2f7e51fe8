"""Jira: a hand-off opens an issue; moving it through the workflow (or commenting) comes back
by webhook.

Jira admin webhooks given a secret sign the body (`X-Hub-Signature: sha256=<hex HMAC>`);
earful subscribes to "Issue: updated" and "Comment: created". Workflows differ per site, so
which statuses mean acknowledged, in progress, fixed or won't fix is a setting: a status
name or a status category key ("new", "indeterminate", "done"); by default any
in-progress-category status means in progress and any done-category status fixed, unless
its name or the issue's resolution says "Won't Do" / "Won't Fix". Where Jira cannot reach
earful, `poll` searches the project's recently updated issues instead.
"""

from __future__ import annotations

import hmac
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError
from pydantic import Field

from earful.channels.http import GuardedAdapter, RateLimitedError, check_url, rate_limit_until
from earful.inbox.destinations import (
    AuthError,
    ConnectorError,
    Destination,
    DestinationSettings,
    OpenedTicket,
    PayloadError,
    TicketDraft,
    TrackerUpdate,
    WebhookRejectedError,
    digest,
    header,
    hmac_sha256,
)

T = TypeVar("T")
NOFORMAT = re.compile(r"\{(noformat)", re.IGNORECASE)
POLLED_FIELDS = ("status", "resolution", "comment")
WONT_FIX = ["Won't Do", "Won't Fix"]


class JiraSettings(DestinationSettings):
    """Which site and project, who opens issues there, the webhook's secret, and what the
    project's statuses mean."""

    server: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    project: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,254}$")
    issue_type: str = Field(default="Task", min_length=1)
    # Jira Cloud: the account's email and an API token. Data Center: no email, and a
    # personal access token, sent as a bearer token.
    email: str = ""
    api_token: str = Field(min_length=1)
    webhook_secret: str = Field(min_length=16)
    labels: list[str] = Field(default_factory=list)
    # Status names or status category keys (new, indeterminate, done) meaning each step.
    acknowledged_statuses: list[str] = Field(default_factory=list)
    in_progress_statuses: list[str] = Field(default_factory=lambda: ["indeterminate"])
    fixed_statuses: list[str] = Field(default_factory=lambda: ["done"])
    wont_fix_statuses: list[str] = Field(default_factory=lambda: list(WONT_FIX))
    # A fixed-looking status with one of these resolutions means won't fix.
    wont_fix_resolutions: list[str] = Field(default_factory=lambda: list(WONT_FIX))
    # Search recently updated issues every tick instead of waiting for webhooks.
    poll: bool = False


def _folded(name: str) -> str:
    return " ".join(name.lower().replace("\u2019", "'").split())


def _folded_all(names: Iterable[str]) -> set[str]:
    return {_folded(name) for name in names}


def noformat(text: str) -> str:
    """Text in a {noformat} block, which Jira shows as it is (no markup, mentions or links).
    Only the block's own end could break out, so the writer's "{noformat" loses its macro
    shape ("{ noformat")."""
    return "{noformat}\n" + NOFORMAT.sub(r"{ \1", text) + "\n{noformat}"


def _label(name: str) -> str:
    # Jira labels are single words.
    return re.sub(r"\s+", "_", name.strip())[:255]


class JiraDestination(Destination):
    """Issues in one Jira project."""

    kind = "jira"
    settings_model = JiraSettings
    settings: JiraSettings

    def _call(self, work: Callable[[JIRA], T]) -> T:
        check_url(self.settings.server)
        auth: dict[str, Any] = (
            {"basic_auth": (self.settings.email, self.settings.api_token)}
            if self.settings.email
            else {"token_auth": self.settings.api_token}
        )
        # No server-info call up front (so no request at all here), and no retries of the
        # client's own: earful's adapter waits out short Retry-Afters, the ticket's backoff
        # the rest.
        client = JIRA(
            server=self.settings.server.rstrip("/"),
            get_server_info=False,
            max_retries=0,
            timeout=self.policy.timeout,
            **auth,
        )
        # The client builds its own session; every request must still pass earful's guard.
        session = client._session
        adapter = GuardedAdapter(self.policy)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.trust_env = False
        try:
            return work(client)
        except JIRAError as exc:
            raise self._error(exc) from None
        except requests.RequestException as exc:
            raise ConnectorError(f"Jira could not be reached: {exc.__class__.__name__}") from None
        finally:
            session.close()

    def _error(self, exc: JIRAError) -> Exception:
        status = exc.status_code
        # A proxy in front of Jira may answer with a page of HTML, not Jira's JSON.
        message = " ".join((exc.text or "").split())[:200]
        if status in (401, 403):
            return AuthError(
                f"Jira refused the credentials ({status}{': ' if message else ''}{message})"
            )
        if status == 429:
            headers = exc.response.headers if exc.response is not None else {}
            return RateLimitedError(rate_limit_until(headers))
        return ConnectorError(f"Jira answered {status or 'nothing'}: {message}")

    def check(self) -> str:
        """Read the project with the credentials: it must exist and have the issue type."""

        def read(client: JIRA) -> str:
            project = client.project(self.settings.project)
            types = [str(t.get("name", "")) for t in project.raw.get("issueTypes", [])]
            if types and _folded(self.settings.issue_type) not in _folded_all(types):
                raise ConnectorError(
                    f"{project.key} has no issue type {self.settings.issue_type!r} "
                    f"(it has {', '.join(types)})"
                )
            return f"can open {self.settings.issue_type} issues in {project.key} ({project.name})"

        return self._call(read)

    def open_ticket(self, draft: TicketDraft) -> OpenedTicket:
        """Create an issue with the draft's summary, wiki-markup description and labels."""
        quoted = [f"*{quote.heading}*\n{noformat(quote.text)}" for quote in draft.quotes]
        description = "\n\n".join(
            [
                noformat(draft.question),
                noformat(draft.about()),
                *quoted,
                f"[Open the conversation in earful|{draft.link}]",
            ]
        )
        fields = {
            "project": {"key": self.settings.project},
            "issuetype": {"name": self.settings.issue_type},
            "summary": draft.title[:255],
            "description": description,
            "labels": [_label(name) for name in (*self.settings.labels, *draft.labels) if name],
        }

        def create(client: JIRA) -> str:
            issue = client.create_issue(fields=fields, prefetch=False)
            return str(issue.key)

        key = self._call(create)
        return OpenedTicket(key, f"{self.settings.server.rstrip('/')}/browse/{key}")

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> str:
        """Check `X-Hub-Signature` against the webhook's secret."""
        signature = header(headers, "X-Hub-Signature")
        expected = "sha256=" + hmac_sha256(self.settings.webhook_secret, body)
        if not signature or not hmac.compare_digest(signature, expected):
            raise WebhookRejectedError("the X-Hub-Signature signature does not match")
        # Jira signs the body only: a replay carries the same signature whatever its
        # X-Atlassian-Webhook-Identifier says, so the signature identifies the delivery.
        return digest("jira", signature)

    def state_of(self, fields: Mapping[str, Any]) -> str:
        """The hand-off status an issue's status (and resolution) means, or "" for none."""
        status = fields.get("status") or {}
        name = _folded(str(status.get("name", "")))
        category = _folded(str((status.get("statusCategory") or {}).get("key", "")))
        steps = (
            ("wont_fix", self.settings.wont_fix_statuses),
            ("fixed", self.settings.fixed_statuses),
            ("in_progress", self.settings.in_progress_statuses),
            ("acknowledged", self.settings.acknowledged_statuses),
        )
        # A status named in the settings wins over its category.
        state = next((s for s, names in steps if name and name in _folded_all(names)), "")
        state = state or next((s for s, names in steps if category in _folded_all(names)), "")
        resolution = _folded(str((fields.get("resolution") or {}).get("name", "")))
        if state == "fixed" and resolution in _folded_all(self.settings.wont_fix_resolutions):
            return "wont_fix"
        return state

    def _ours(self, key: str) -> bool:
        return key.rsplit("-", 1)[0].upper() == self.settings.project

    def updates(self, headers: Mapping[str, str], body: bytes) -> list[TrackerUpdate]:
        """Status changes, assignments and new comments on the project's issues."""
        try:
            payload = json.loads(body)
            event = str(payload["webhookEvent"])
            if event not in ("jira:issue_updated", "comment_created"):
                return []
            key = str(payload["issue"]["key"])
            if event == "comment_created":
                comment = payload["comment"]
                text = str(comment["body"])
                author = str((comment.get("author") or {}).get("displayName", ""))
            else:
                state = self._updated_state(payload)
                author = str((payload.get("user") or {}).get("displayName", ""))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PayloadError(f"Jira sent a webhook without {exc}") from None
        if not self._ours(key):
            return []
        if event == "comment_created":
            return [TrackerUpdate(key, comment=text, author=author)]
        return [TrackerUpdate(key, state=state, author=author)] if state else []

    def _updated_state(self, payload: Mapping[str, Any]) -> str:
        fields = payload["issue"]["fields"]
        items = (payload.get("changelog") or {}).get("items") or []
        changed = {str(item.get("field", "")): item for item in items}
        # A comment also arrives as an issue update; only comment_created turns it into a note.
        if "status" in changed:
            return self.state_of(fields)
        if (changed.get("assignee") or {}).get("to"):
            return "acknowledged"
        return ""

    def poll(self, external_ids: list[str], cursor: Any) -> tuple[list[TrackerUpdate], Any]:
        """Statuses and comments of the open tickets' issues updated since the cursor."""
        started = datetime.now(UTC)
        since = datetime.fromisoformat(cursor) if cursor else started
        wanted = set(external_ids)
        # JQL dates are in the Jira user's time zone; a relative time is not (plus a minute
        # for the clocks' difference). The project, not `key in (...)`: a deleted issue's
        # key would fail the whole search.
        minutes = math.ceil((started - since).total_seconds() / 60) + 1
        jql = f'project = "{self.settings.project}" AND updated >= -{minutes}m ORDER BY updated'

        def read(client: JIRA) -> list[TrackerUpdate]:
            if self.settings.email:
                issues = self._search_cloud(client, jql)
            else:
                issues = self._search_data_center(client, jql)
            found: list[TrackerUpdate] = []
            for issue in issues:
                if issue.get("key") in wanted:
                    found.extend(self._polled(issue, since))
            return found

        return self._call(read), started.isoformat()

    def _search_cloud(self, client: JIRA, jql: str) -> list[dict[str, Any]]:
        # Jira Cloud retired /search for /search/jql, which the client only calls once it
        # knows it talks to Cloud; the email (and API token) sign-in is Cloud's.
        client.deploymentType = "Cloud"
        issues: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = client.enhanced_search_issues(
                jql,
                nextPageToken=token,
                maxResults=100,
                fields=list(POLLED_FIELDS),
                json_result=True,
            )
            if not isinstance(page, dict):
                raise ConnectorError("Jira's search answered no page")
            issues.extend(page.get("issues", []))
            token = page.get("nextPageToken")
            if not token:
                return issues

    def _search_data_center(self, client: JIRA, jql: str) -> list[dict[str, Any]]:
        issues: list[dict[str, Any]] = []
        while True:
            page = client.search_issues(
                jql,
                startAt=len(issues),
                maxResults=100,
                fields=list(POLLED_FIELDS),
                json_result=True,
            )
            if not isinstance(page, dict):
                raise ConnectorError("Jira's search answered no page")
            issues.extend(page.get("issues", []))
            if not page.get("issues") or len(issues) >= int(page.get("total", 0)):
                return issues

    def _polled(self, issue: Mapping[str, Any], since: datetime) -> list[TrackerUpdate]:
        key = str(issue["key"])
        fields = issue.get("fields") or {}
        found = []
        for comment in (fields.get("comment") or {}).get("comments", []):
            created = datetime.strptime(str(comment.get("created")), "%Y-%m-%dT%H:%M:%S.%f%z")
            if created >= since:
                author = str((comment.get("author") or {}).get("displayName", ""))
                found.append(
                    TrackerUpdate(key, comment=str(comment.get("body", "")), author=author)
                )
        state = self.state_of(fields)
        if state:
            found.append(TrackerUpdate(key, state=state))
        return found


destination_class = JiraDestination
