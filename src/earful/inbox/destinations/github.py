"""GitHub Issues: a hand-off opens an issue; closing it (or commenting) comes back by webhook.

Webhooks are signed with the secret the repository's webhook was given
(`X-Hub-Signature-256: sha256=<hex HMAC of the body>`); earful subscribes to the "Issues"
and "Issue comments" events. Where GitHub cannot reach earful, `poll` reads the issues
updated since the last poll instead. Closing as "completed" means fixed, as "not planned"
won't fix; assigning it means acknowledged and reopening it means in progress again.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException
from github.GithubException import BadCredentialsException, RateLimitExceededException
from github.Issue import Issue
from github.Repository import Repository
from pydantic import Field

from earful.channels.http import RateLimitedError, check_url, rate_limit_until
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


class GithubSettings(DestinationSettings):
    """Which repository, the token that opens issues there, and the webhook's secret."""

    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    token: str = Field(min_length=1)
    webhook_secret: str = Field(min_length=16)
    # GitHub Enterprise Server is at https://<host>/api/v3.
    api_url: str = "https://api.github.com"
    labels: list[str] = Field(default_factory=list)
    # Read issue changes every tick instead of waiting for webhooks (earful not reachable).
    poll: bool = False


def _state_of(action: str, issue: Mapping[str, Any]) -> str:
    if action == "closed":
        return "wont_fix" if issue.get("state_reason") == "not_planned" else "fixed"
    if action == "reopened":
        return "in_progress"
    if action == "assigned":
        return "acknowledged"
    return ""


def fenced(text: str) -> str:
    """Text in a fenced code block longer than any backtick run in it: GitHub shows it as it
    is, with no mentions, issue links, images or HTML of the writer's."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


class GithubDestination(Destination):
    """Issues in one repository."""

    kind = "github"
    settings_model = GithubSettings
    settings: GithubSettings

    def _client(self) -> Github:
        check_url(self.settings.api_url)
        return Github(
            auth=Auth.Token(self.settings.token),
            base_url=self.settings.api_url.rstrip("/"),
            timeout=int(self.policy.timeout),
            retry=self.policy.retries,
            lazy=True,
        )

    def _call(self, work: Callable[[Repository], T]) -> T:
        try:
            with self._client() as client:
                return work(client.get_repo(self.settings.repository))
        except BadCredentialsException as exc:
            raise AuthError(f"GitHub refused the token ({exc.status})") from None
        except RateLimitExceededException as exc:
            raise RateLimitedError(rate_limit_until(exc.headers or {})) from None
        except GithubException as exc:
            data = exc.data if isinstance(exc.data, dict) else {}
            message = exc.message or str(data.get("message", ""))
            raise ConnectorError(f"GitHub answered {exc.status}: {message}") from None
        except requests.RequestException as exc:
            raise ConnectorError(f"GitHub could not be reached: {exc.__class__.__name__}") from None

    def check(self) -> str:
        """Read the repository with the token: it must exist and allow issues."""

        def read(repo: Repository) -> str:
            repo.complete()
            if not repo.has_issues:
                raise ConnectorError(f"{repo.full_name} has issues turned off")
            return f"can open issues in {repo.full_name}"

        return self._call(read)

    def open_ticket(self, draft: TicketDraft) -> OpenedTicket:
        """Open an issue with the draft's title, body and labels."""
        labels = [*self.settings.labels, *draft.labels]
        quoted = [f"**{quote.heading}**\n\n{fenced(quote.text)}" for quote in draft.quotes]
        body = "\n\n".join(
            [
                fenced(draft.question),
                draft.about(),
                *quoted,
                f"[Open the conversation in earful]({draft.link})",
            ]
        )

        def create(repo: Repository) -> Issue:
            return repo.create_issue(title=draft.title, body=body, labels=labels)

        issue = self._call(create)
        return OpenedTicket(str(issue.number), issue.html_url)

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> str:
        """Check `X-Hub-Signature-256` against the webhook's secret."""
        signature = header(headers, "X-Hub-Signature-256")
        expected = "sha256=" + hmac_sha256(self.settings.webhook_secret, body)
        if not signature or not hmac.compare_digest(signature, expected):
            raise WebhookRejectedError("the X-Hub-Signature-256 signature does not match")
        # GitHub signs the body only: a replay carries the same signature whatever its
        # X-GitHub-Delivery says, so the signature is what identifies the delivery.
        return digest("github", signature)

    def updates(self, headers: Mapping[str, str], body: bytes) -> list[TrackerUpdate]:
        """Issue closes, reopens, assignments and new comments in the configured repository."""
        event = header(headers, "X-GitHub-Event")
        if event not in ("issues", "issue_comment"):
            return []
        try:
            payload = json.loads(body)
            repository = payload["repository"]["full_name"]
            issue = payload["issue"]
            number = str(int(issue["number"]))
            action = str(payload["action"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PayloadError(f"GitHub sent an {event} event without {exc}") from None
        if repository.lower() != self.settings.repository.lower():
            return []
        if event == "issue_comment":
            if action != "created":
                return []
            comment = payload.get("comment") or {}
            author = str((comment.get("user") or {}).get("login", ""))
            return [TrackerUpdate(number, comment=str(comment.get("body", "")), author=author)]
        state = _state_of(action, issue)
        author = str((payload.get("sender") or {}).get("login", ""))
        return [TrackerUpdate(number, state=state, author=author)] if state else []

    def poll(self, external_ids: list[str], cursor: Any) -> tuple[list[TrackerUpdate], Any]:
        """Issues and comments updated since the cursor (an ISO time), for the open tickets."""
        started = datetime.now(UTC)
        since = datetime.fromisoformat(cursor) if cursor else started
        wanted = set(external_ids)

        def read(repo: Repository) -> list[TrackerUpdate]:
            found: list[TrackerUpdate] = []
            for comment in repo.get_issues_comments(since=since):
                number = comment.issue_url.rsplit("/", 1)[-1]
                if number in wanted and comment.created_at >= since:
                    author = comment.user.login
                    found.append(TrackerUpdate(number, comment=comment.body, author=author))
            for issue in repo.get_issues(state="closed", since=since):
                if str(issue.number) in wanted:
                    state = "wont_fix" if issue.state_reason == "not_planned" else "fixed"
                    found.append(TrackerUpdate(str(issue.number), state=state))
            return found

        return self._call(read), started.isoformat()


destination_class = GithubDestination
