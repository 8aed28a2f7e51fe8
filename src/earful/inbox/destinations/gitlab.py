"""GitLab issues: a hand-off opens an issue; closing it (or commenting) comes back by webhook.

GitLab does not sign webhooks: it sends the secret token the project's webhook was given in
`X-Gitlab-Token`, compared here in constant time. earful subscribes to "Issues events" and
"Comments" (Issue Hook, Note Hook). GitLab has no close reason, so a close carrying one of
the won't-fix labels means won't fix and any other close fixed; assigning the issue
acknowledges it and reopening it puts it back in progress. Where GitLab cannot reach earful,
`poll` reads the issues updated since the last poll instead.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import gitlab
import requests
from gitlab.exceptions import GitlabAuthenticationError, GitlabError
from gitlab.v4.objects import Project
from pydantic import Field

from earful.channels.http import RateLimitedError, check_url, guarded_session, rate_limit_until
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
)

T = TypeVar("T")
ISSUE_EVENTS = ("Issue Hook", "Confidential Issue Hook")
NOTE_EVENTS = ("Note Hook", "Confidential Note Hook")
# python-gitlab would sleep out a 429 itself (Retry-After, ten times over); earful's
# session already waits out short ones and the ticket's backoff takes the long ones.
ONCE: dict[str, Any] = {"obey_rate_limit": False}


class GitlabSettings(DestinationSettings):
    """Which project, the token that opens issues there, and the webhook's secret token."""

    # gitlab.com, or a self-managed instance's address.
    url: str = Field(default="https://gitlab.com", pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    # The project's path with its namespace (group/subgroup/name) or its numeric id.
    project: str = Field(pattern=r"^(\d+|[\w.-]+(/[\w.-]+)+)$")
    token: str = Field(min_length=1)
    webhook_token: str = Field(min_length=16)
    labels: list[str] = Field(default_factory=list)
    # GitLab closes without a reason: a close with one of these labels means won't fix.
    wont_fix_labels: list[str] = Field(default_factory=lambda: ["wontfix", "won't fix"])
    # Read issue changes every tick instead of waiting for webhooks (earful not reachable).
    poll: bool = False


def _folded(label: str) -> str:
    return label.strip().lower().replace("\u2019", "'")


def _message(exc: GitlabError) -> str:
    # A proxy in front of GitLab may answer with a page of HTML, not GitLab's JSON.
    message = exc.error_message
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    return " ".join(text.split())[:200]


def indented(text: str) -> str:
    """Text as an indented code block: GitLab shows it as it is, with no mentions, references,
    links or HTML of the writer's, and no line of it starts a quick action (`/close`).

    GitLab finds quick actions by a slash at the very start of a line, fences or not, and a
    customer's own line of three backticks would end a fence early for that search; four
    spaces before every line (whatever line break the writer used) leave nothing to find.
    """
    return "\n".join(f"    {line}" for line in (text.splitlines() or [""]))


def inline(text: str) -> str:
    """Text on one line as a code span longer than any backtick run in it (shown as it is)."""
    flat = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    ticks = "`" * (longest + 1)
    return f"{ticks} {flat} {ticks}"


class GitlabDestination(Destination):
    """Issues in one GitLab project."""

    kind = "gitlab"
    settings_model = GitlabSettings
    settings: GitlabSettings

    def _call(self, work: Callable[[Project], T]) -> T:
        check_url(self.settings.url)
        session = guarded_session(self.policy)
        # python-gitlab's errors carry no headers: keep the last answer's for Retry-After.
        answered: dict[str, Mapping[str, str]] = {}

        def remember(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            answered["headers"] = response.headers

        session.hooks["response"].append(remember)
        try:
            with gitlab.Gitlab(
                self.settings.url.rstrip("/"),
                private_token=self.settings.token,
                session=session,
                timeout=self.policy.timeout,
            ) as client:
                project = client.projects.get(self.settings.project, lazy=True)
                return work(project)
        except GitlabAuthenticationError as exc:
            raise AuthError(f"GitLab refused the token ({exc.response_code})") from None
        except GitlabError as exc:
            if exc.response_code == 429:
                raise RateLimitedError(rate_limit_until(answered.get("headers", {}))) from None
            message = _message(exc)
            if exc.response_code == 403:
                raise AuthError(f"GitLab refused the token (403: {message})") from None
            status = exc.response_code or "no answer"
            raise ConnectorError(f"GitLab answered {status}: {message}") from None
        except requests.RequestException as exc:
            raise ConnectorError(f"GitLab could not be reached: {exc.__class__.__name__}") from None

    def check(self) -> str:
        """Read the project with the token: it must exist and have issues turned on."""

        def read(project: Project) -> str:
            project.refresh(**ONCE)
            name = str(getattr(project, "path_with_namespace", self.settings.project))
            if not getattr(project, "issues_enabled", True):
                raise ConnectorError(f"{name} has issues turned off")
            return f"can open issues in {name}"

        return self._call(read)

    def open_ticket(self, draft: TicketDraft) -> OpenedTicket:
        """Open an issue with the draft's title, description and labels."""
        # GitLab takes labels comma-separated: a comma would split one in two.
        labels = [label.replace(",", " ") for label in (*self.settings.labels, *draft.labels)]
        quoted = [f"**{quote.heading}**\n\n{indented(quote.text)}" for quote in draft.quotes]
        description = "\n\n".join(
            [
                indented(draft.question),
                inline(draft.about()),
                *quoted,
                f"[Open the conversation in earful]({draft.link})",
            ]
        )

        def create(project: Project) -> tuple[str, str]:
            data = {"title": draft.title, "description": description, "labels": labels}
            issue = project.issues.create(data, **ONCE)
            return str(issue.iid), str(issue.web_url)

        number, url = self._call(create)
        return OpenedTicket(number, url)

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> str:
        """Check `X-Gitlab-Token` against the webhook's secret token."""
        token = header(headers, "X-Gitlab-Token")
        if not token or not hmac.compare_digest(
            token.encode(), self.settings.webhook_token.encode()
        ):
            raise WebhookRejectedError("the X-Gitlab-Token does not match")
        # GitLab (17.4 on) keeps one Idempotency-Key across a delivery's retries; before
        # that, a retry is the same body, which differs between events (times, ids).
        key = header(headers, "Idempotency-Key")
        return digest("gitlab", "key", key) if key else digest("gitlab", "body", body)

    def _ours(self, project: Mapping[str, Any]) -> bool:
        wanted = self.settings.project.lower()
        return wanted in (
            str(project.get("path_with_namespace", "")).lower(),
            str(project.get("id")),
        )

    def _closed_state(self, labels: Iterable[str]) -> str:
        wont = {_folded(label) for label in self.settings.wont_fix_labels}
        return "wont_fix" if any(_folded(label) in wont for label in labels) else "fixed"

    def updates(self, headers: Mapping[str, str], body: bytes) -> list[TrackerUpdate]:
        """Issue closes, reopens, assignments and new comments in the configured project."""
        event = header(headers, "X-Gitlab-Event")
        if event not in ISSUE_EVENTS + NOTE_EVENTS:
            return []
        try:
            payload = json.loads(body)
            project = payload["project"]
            attributes = payload["object_attributes"]
            author = str((payload.get("user") or {}).get("username", ""))
            if event in NOTE_EVENTS:
                if attributes["noteable_type"] != "Issue":
                    return []
                number = str(int(payload["issue"]["iid"]))
                # Notes GitLab writes itself ("closed", "assigned to") are not the department's.
                own = (
                    not attributes.get("system") and attributes.get("action", "create") == "create"
                )
                note = str(attributes.get("note", "")) if own else ""
            else:
                number = str(int(attributes["iid"]))
                state = self._issue_state(payload, attributes)
            ours = self._ours(project)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PayloadError(f"GitLab sent a {event} without {exc}") from None
        if not ours:
            return []
        if event in NOTE_EVENTS:
            return [TrackerUpdate(number, comment=note, author=author)] if note else []
        return [TrackerUpdate(number, state=state, author=author)] if state else []

    def _issue_state(self, payload: Mapping[str, Any], attributes: Mapping[str, Any]) -> str:
        action = attributes.get("action")
        if action == "close":
            labels = payload.get("labels") or attributes.get("labels") or []
            return self._closed_state(str(label.get("title", "")) for label in labels)
        if action == "reopen":
            return "in_progress"
        assignees = ((payload.get("changes") or {}).get("assignees") or {}).get("current")
        if action == "update" and assignees:
            return "acknowledged"
        return ""

    def poll(self, external_ids: list[str], cursor: Any) -> tuple[list[TrackerUpdate], Any]:
        """Issues and comments updated since the cursor (an ISO time), for the open tickets."""
        started = datetime.now(UTC)
        since = datetime.fromisoformat(cursor) if cursor else started
        iids = [int(number) for number in external_ids if number.isdigit()]

        def read(project: Project) -> list[TrackerUpdate]:
            found: list[TrackerUpdate] = []
            changed = project.issues.list(
                iids=iids, updated_after=since.isoformat(), iterator=True, **ONCE
            )
            for issue in changed:
                number = str(issue.iid)
                for note in issue.notes.list(
                    order_by="created_at", sort="asc", iterator=True, **ONCE
                ):
                    created = datetime.fromisoformat(str(note.created_at).replace("Z", "+00:00"))
                    if created >= since and not getattr(note, "system", False):
                        author = str((getattr(note, "author", None) or {}).get("username", ""))
                        found.append(TrackerUpdate(number, comment=str(note.body), author=author))
                if issue.state == "closed":
                    found.append(TrackerUpdate(number, state=self._closed_state(issue.labels)))
                elif getattr(issue, "assignees", None):
                    found.append(TrackerUpdate(number, state="acknowledged"))
            return found

        return self._call(read), started.isoformat()


destination_class = GitlabDestination
