"""Mastodon (Mastodon.py): mentions, hashtag timelines and keyword search in; replies out.

Each source keeps its own `min_id` in the cursor, so every poll asks only for what is newer
and a restart resumes. The first poll of a source takes its newest page and does not walk
back through history. Search is term by term (Mastodon has no boolean operators) and what
it finds is kept only if a listening query hears it.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from mastodon import (
    Mastodon,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonUnauthorizedError,
    StreamListener,
)
from pydantic import Field, HttpUrl

from earful.channels.connector import (
    AuthError,
    ChannelSettings,
    Connector,
    ConnectorError,
    Cursor,
    FetchResult,
    OutgoingReply,
    PayloadError,
    Record,
    StreamItem,
)
from earful.channels.http import RateLimitedError, guarded_session
from earful.channels.listening import compile_query
from earful.channels.normalize import clip, html_to_text, http_url, iso_time

ACCT = re.compile(r"[A-Za-z0-9_]{1,30}(@[A-Za-z0-9.-]{1,253})?")
STATUS_ID = re.compile(r"[0-9]{1,30}")
MAX_STATUS_CHARS = 500


class MastodonSettings(ChannelSettings):
    """The instance, an access token with read and write:statuses, and what to follow."""

    base_url: HttpUrl
    access_token: str = Field(min_length=8, max_length=500)
    mentions: bool = True
    hashtags: list[str] = Field(default_factory=list, max_length=20)
    search: list[str] = Field(default_factory=list, max_length=20)
    reply_visibility: str = Field(default="public", pattern="^(public|unlisted|private)$")
    page_size: int = Field(default=40, ge=1, le=40)
    # Mentions pushed by the streaming API as they happen (polling still catches up).
    stream: bool = False


class MastodonConnector(Connector):
    """Polls the instance's REST API through our HTTP wrapper."""

    kind = "mastodon"
    settings_model = MastodonSettings
    settings: MastodonSettings
    streams = True
    takes_media = True

    def _api(self) -> Mastodon:
        return Mastodon(
            access_token=self.settings.access_token,
            api_base_url=str(self.settings.base_url).rstrip("/"),
            session=guarded_session(self.policy),
            ratelimit_method="throw",
            request_timeout=self.policy.timeout,
            # Known version: no extra call to /api/v1/instance before each use.
            mastodon_version="4.2.0",
            version_check_mode="none",
        )

    def _sources(self) -> list[tuple[str, str, str]]:
        sources = [("mentions", "mention", "")] if self.settings.mentions else []
        tags = [t.lstrip("#") for t in self.settings.hashtags]
        searches = list(self.settings.search)
        # Listening terms: hashtags read their timeline, other terms go to search.
        for query in self.listening:
            for term in compile_query(query, "mastodon"):
                if term.startswith("#"):
                    tags.append(term.lstrip("#"))
                else:
                    searches.append(term)
        sources += [(f"tag:{t.lower()}", "hashtag", t) for t in dict.fromkeys(tags)]
        sources += [(f"q:{q.lower()}", "search", q) for q in dict.fromkeys(searches)]
        return sources

    def fetch(self, cursor: Cursor) -> FetchResult:
        """One page of each source newer than its stored id."""
        state = dict(cursor or {})
        api = self._api()
        records: list[Record] = []
        more = False
        with _translated(api):
            for key, via, arg in self._sources():
                since = state.get(key)
                statuses, ids = self._page(api, via, arg, since)
                records.extend(r for r in (to_record(s, via) for s in statuses) if r is not None)
                numeric = [int(i) for i in ids if STATUS_ID.fullmatch(i)]
                if numeric:
                    state[key] = str(max(numeric))
                # A first poll takes the newest page only; a catch-up walks on while pages fill.
                more = more or (since is not None and len(ids) >= self.settings.page_size)
        return FetchResult(records, state, more=more)

    def _page(
        self, api: Mastodon, via: str, arg: str, since: str | None
    ) -> tuple[list[Any], list[str]]:
        """The statuses of one page and the ids its cursor moves by."""
        limit = self.settings.page_size
        if via == "mention":
            # Notifications page by their own ids, not by their statuses'.
            notes = api.notifications(types=["mention"], min_id=since, limit=limit)
            return [n["status"] for n in notes if n.get("status")], [str(n["id"]) for n in notes]
        if via == "hashtag":
            statuses = list(api.timeline_hashtag(arg, min_id=since, limit=limit))
        else:
            found = api.search_v2(arg, result_type="statuses", min_id=since, limit=limit)
            statuses = list(found["statuses"])
        return statuses, [str(s["id"]) for s in statuses]

    def stream(self, cursor: Cursor) -> Iterator[StreamItem]:
        """Mentions from the user notification stream (SSE), until the server closes it."""
        # Mastodon.py's stream call blocks and calls back; a thread turns that into a generator.
        events: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1000)

        class Listener(StreamListener):
            def on_notification(self, notification: Any) -> None:
                events.put(("notification", notification))

        api = self._api()

        def listen() -> None:
            try:
                api.stream_user_notifications(Listener(), run_async=False)
            except Exception as exc:  # handed to the consuming side, which raises it there
                events.put(("error", exc))
            finally:
                events.put(("end", None))

        threading.Thread(target=listen, name="earful-mastodon-stream", daemon=True).start()
        while True:
            kind, item = events.get()
            if kind == "end":
                return
            if kind == "error":
                with _translated(api):
                    raise item
            if item.get("type") == "mention" and item.get("status"):
                yield to_record(item["status"], "mention"), cursor

    def send(self, reply: OutgoingReply) -> str:
        """Post the reply under the status it answers, mentioning its author."""
        mention = reply.to.lstrip("@")
        if mention and not ACCT.fullmatch(mention):
            raise ConnectorError("the recipient is not a Mastodon account name")
        if reply.in_reply_to and not STATUS_ID.fullmatch(reply.in_reply_to):
            raise ConnectorError("the answered status id is not a Mastodon status id")
        text = f"@{mention} {reply.text}" if mention else reply.text
        if len(text) > MAX_STATUS_CHARS:
            raise ConnectorError(f"the reply is longer than {MAX_STATUS_CHARS} characters")
        visibility = str(reply.context.get("visibility") or self.settings.reply_visibility)
        if visibility not in ("public", "unlisted", "private", "direct"):
            visibility = self.settings.reply_visibility
        api = self._api()
        with _translated(api):
            media_ids = [
                api.media_post(
                    item.path, mime_type=item.content_type, description=item.description or None
                )["id"]
                for item in reply.media
            ]
            posted = api.status_post(
                text,
                in_reply_to_id=reply.in_reply_to or None,
                media_ids=media_ids or None,
                visibility=visibility,
                idempotency_key=reply.idempotency_key or None,
            )
        return clip(posted["id"], 255)

    def check(self) -> str:
        """Verify the token and name the account it belongs to."""
        api = self._api()
        with _translated(api):
            me = api.account_verify_credentials()
        return f"logged in as @{clip(me['acct'], 100)} on {self.settings.base_url}"


def to_record(status: Any, via: str) -> Record | None:
    """The record for one status; None for a reblog or an empty status."""
    try:
        if status.get("reblog"):
            return None
        account = status["account"]
        text = "\n\n".join(
            part
            for part in (
                html_to_text(status.get("spoiler_text") or ""),
                html_to_text(status["content"]),
            )
            if part
        )
        if not text:
            return None
        acct = clip(account["acct"], 255)
        visibility = str(status.get("visibility") or "public")
        parent = str(status.get("in_reply_to_id") or "")
        created = status["created_at"]
        return {
            "external_id": clip(status["id"], 255),
            "text": text,
            "created_at": iso_time(created if isinstance(created, datetime) else str(created)),
            "kind": "direct" if visibility == "direct" else ("reply" if parent else "post"),
            "in_reply_to": parent,
            "url": http_url(status.get("url")),
            "author": {
                "external_id": acct,
                "handle": "@" + acct,
                "display_name": clip(account.get("display_name"), 200),
                "profile_url": http_url(account.get("url"), 500),
                "audience_size": max(0, int(account.get("followers_count") or 0)),
            },
            "source": {
                "via": via,
                "language": clip(status.get("language"), 8),
                "visibility": visibility,
            },
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError(f"a status is not in Mastodon's format: {exc!r}") from None


class _translated:  # noqa: N801
    """Turns Mastodon.py's errors into the connector's, with the reason a person can act on."""

    def __init__(self, api: Mastodon) -> None:
        self.api = api

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is None:
            return
        if isinstance(exc, MastodonUnauthorizedError):
            raise AuthError(f"the instance refused the access token: {_said(exc)}") from None
        if isinstance(exc, MastodonRatelimitError):
            raise RateLimitedError(_reset_of(self.api.ratelimit_reset)) from None
        if isinstance(exc, MastodonNotFoundError):
            raise ConnectorError(f"not found on the instance: {_said(exc)}") from None
        if isinstance(exc, MastodonNetworkError):
            raise ConnectorError(f"cannot reach the instance: {exc}") from None
        if isinstance(exc, MastodonError):
            raise ConnectorError(f"the instance answered with an error: {_said(exc)}") from None
        return None


def _said(exc: BaseException) -> str:
    # Mastodon.py puts (message, status, reason, server's error) in args.
    words = [str(a) for a in exc.args[1:] if a] if len(exc.args) > 1 else [str(exc)]
    return clip(" ".join(words), 300)


def _reset_of(reset: object) -> datetime:
    # Mastodon.py keeps the X-RateLimit-Reset of the last answer as epoch seconds.
    if isinstance(reset, int | float) and reset > datetime.now(UTC).timestamp():
        return datetime.fromtimestamp(reset, UTC)
    return datetime.fromtimestamp(datetime.now(UTC).timestamp() + 300, UTC)


connector_class = MastodonConnector
