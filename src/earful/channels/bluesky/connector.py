"""Bluesky (atproto): mentions and replies from notifications, keyword search, replies out.

Both sources list newest first with a cursor to older pages, so the cursor keeps, per
source, the newest `indexedAt` stored and, during a catch-up, the page cursor of the walk
back; the walk stops at the first item already stored. Search runs term by term: Bluesky's
search treats spaces as AND and has no OR.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from atproto import Client, models  # type: ignore[import-untyped]
from atproto_client.exceptions import (  # type: ignore[import-untyped]
    AtProtocolError,
    BadRequestError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestException,
    UnauthorizedError,
)
from atproto_client.request import Request  # type: ignore[import-untyped]
from pydantic import Field, HttpUrl
from websockets.exceptions import ConnectionClosedError, InvalidHandshake
from websockets.sync.client import connect

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
from earful.channels.http import (
    GuardedTransport,
    HttpPolicy,
    RateLimitedError,
    check_url,
    rate_limit_until,
)
from earful.channels.listening import Terms, compile_query
from earful.channels.normalize import clip, iso_time

AT_URI = re.compile(
    r"at://did:[a-z0-9]+:[A-Za-z0-9._:%-]{1,200}/[a-z0-9.]{1,100}/[A-Za-z0-9._~:-]{1,100}"
)
CID = re.compile(r"b[a-z2-7]{8,120}")
MAX_POST_CHARS = 300
ADDRESSED = frozenset({"mention", "reply", "quote"})


class BlueskySettings(ChannelSettings):
    """The account (handle and an app password), its PDS, and extra search terms."""

    service: HttpUrl = HttpUrl("https://bsky.social")
    handle: str = Field(min_length=3, max_length=253)
    app_password: str = Field(min_length=4, max_length=200)
    mentions: bool = True
    search: list[str] = Field(default_factory=list, max_length=20)
    page_size: int = Field(default=50, ge=1, le=100)
    # Jetstream: the firehose of all new posts, filtered here by the listening terms.
    stream: bool = False
    jetstream_url: str = Field(
        default="wss://jetstream2.us-east.bsky.network/subscribe",
        pattern=r"^wss?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9/_-]*$",
    )


class GuardedRequest(Request):
    """atproto's request layer on our transport: guard, timeouts and retries."""

    def __init__(self, policy: HttpPolicy) -> None:
        self._policy = policy
        super().__init__(
            transport=GuardedTransport(policy), timeout=policy.timeout, trust_env=False
        )

    def _new_instance(self) -> GuardedRequest:
        return type(self)(self._policy)


class BlueskyConnector(Connector):
    """Reads the account's notifications and searches posts; replies in the thread."""

    kind = "bluesky"
    settings_model = BlueskySettings
    settings: BlueskySettings
    streams = True

    def _client(self) -> Client:
        client = Client(base_url=str(self.settings.service), request=GuardedRequest(self.policy))
        with _translated():
            client.login(self.settings.handle, self.settings.app_password)
        return client

    def _terms(self) -> list[str]:
        terms = list(self.settings.search)
        for query in self.listening:
            terms += [t for t in compile_query(query, "bluesky") if t not in terms]
        return terms

    def fetch(self, cursor: Cursor) -> FetchResult:
        """One page of notifications and of each search, newer than what is stored."""
        state = dict(cursor or {})
        client = self._client()
        records: list[Record] = []
        more = False
        with _translated():
            if self.settings.mentions:
                more |= self._source(
                    state, "mentions", records, lambda c: self._mentions(client, c)
                )
            for term in self._terms():
                more |= self._source(
                    state,
                    f"q:{term.lower()}",
                    records,
                    lambda c, t=term: self._search(client, t, c),
                )
        return FetchResult(records, state, more=more)

    def _source(self, state: dict[str, Any], key: str, out: list[Record], call: Any) -> bool:
        """Read one page of a newest-first source; True if a catch-up walk goes on."""
        src = state.get(key) or {}
        seen = src.get("seen")
        page, api_cursor = call(src.get("next"))
        fresh = [r for r in page if seen is None or r["created_at_indexed"] > seen]
        for record in fresh:
            out.append({k: v for k, v in record.items() if k != "created_at_indexed"})
        top = max([src.get("top") or "", *(r["created_at_indexed"] for r in fresh)])
        walking = bool(seen and api_cursor and page and len(fresh) == len(page))
        if walking:
            state[key] = {"seen": seen, "next": api_cursor, "top": top}
        else:
            state[key] = {"seen": top or seen, "next": None, "top": None}
        return walking

    def _mentions(self, client: Client, cursor: str | None) -> tuple[list[Record], str | None]:
        response = client.app.bsky.notification.list_notifications(
            params={"limit": self.settings.page_size, "cursor": cursor}
        )
        page = [
            _record(n, n.author, n.record, "mention", n.indexed_at)
            for n in response.notifications
            if n.reason in ADDRESSED
        ]
        return [r for r in page if r is not None], response.cursor

    def _search(
        self, client: Client, term: str, cursor: str | None
    ) -> tuple[list[Record], str | None]:
        response = client.app.bsky.feed.search_posts(
            params={"q": term, "sort": "latest", "limit": self.settings.page_size, "cursor": cursor}
        )
        page = [_record(p, p.author, p.record, "search", p.indexed_at) for p in response.posts]
        return [r for r in page if r is not None], response.cursor

    def stream(self, cursor: Cursor) -> Iterator[StreamItem]:
        """New posts from Jetstream that a listening term names, resuming at the cursor."""
        terms = list(self.listening)
        if self.settings.search:
            terms.append(Terms(include=tuple(self.settings.search)))
        if not terms:
            raise ConnectorError("the firehose needs a listening query or search terms")
        query = "wantedCollections=app.bsky.feed.post"
        since = (cursor or {}).get("time_us")
        if isinstance(since, int):
            query += f"&cursor={since}"
        url = f"{self.settings.jetstream_url}?{query}"
        check_url(url.replace("ws", "http", 1))
        try:
            with connect(url, open_timeout=self.policy.timeout, max_size=1 << 20) as socket:
                for message in socket:
                    yield _firehose_item(message, terms, cursor)
                    cursor = {"time_us": _time_us(message, cursor)}
        except (OSError, InvalidHandshake, ConnectionClosedError) as exc:
            raise ConnectorError(f"the Jetstream connection failed: {clip(exc, 200)}") from None

    def send(self, reply: OutgoingReply) -> str:
        """Post the reply in the answered post's thread; returns the new post's at:// URI."""
        if len(reply.text) > MAX_POST_CHARS:
            raise ConnectorError(f"the reply is longer than {MAX_POST_CHARS} characters")
        ref = None
        if reply.in_reply_to:
            ctx = reply.context
            parent = _strong_ref(reply.in_reply_to, ctx.get("cid"))
            root = _strong_ref(
                ctx.get("root_uri") or reply.in_reply_to, ctx.get("root_cid") or ctx.get("cid")
            )
            ref = models.AppBskyFeedPost.ReplyRef(parent=parent, root=root)
        client = self._client()
        with _translated():
            created = client.send_post(reply.text, reply_to=ref)
        return clip(created.uri, 255)

    def check(self) -> str:
        """Log in and name the account."""
        client = self._client()
        handle = client.me.handle if client.me else self.settings.handle
        return f"logged in as @{clip(handle, 100)} on {self.settings.service}"


def _time_us(message: str | bytes, cursor: Cursor) -> int | None:
    try:
        value = json.loads(message).get("time_us")
    except (ValueError, AttributeError):
        value = None
    previous = (cursor or {}).get("time_us")
    return value if isinstance(value, int) else previous if isinstance(previous, int) else None


def _firehose_item(message: str | bytes, terms: list[Terms], cursor: Cursor) -> StreamItem:
    """The record of one Jetstream event if a term names it, with the cursor after it."""
    after = {"time_us": _time_us(message, cursor)}
    try:
        event = json.loads(message)
        commit = event.get("commit") or {}
        if event.get("kind") != "commit" or commit.get("operation") != "create":
            return None, after
        post = commit.get("record") or {}
        text, did, rkey = str(post.get("text") or ""), str(event["did"]), str(commit["rkey"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, after
    language = clip((post.get("langs") or [""])[0], 8)
    if not text or not any(t.matches(text, language) for t in terms):
        return None, after
    if not re.fullmatch(r"did:[a-z0-9:._%-]{1,200}", did) or not re.fullmatch(
        r"[A-Za-z0-9._~:-]{1,100}", rkey
    ):
        return None, after
    reply = post.get("reply") or {}
    parent = (reply.get("parent") or {}).get("uri") or ""
    return {
        "external_id": f"at://{did}/app.bsky.feed.post/{rkey}",
        "text": text[:100_000],
        "created_at": iso_time(post.get("createdAt")),
        "kind": "reply" if parent else "post",
        "in_reply_to": clip(parent, 255),
        "url": f"https://bsky.app/profile/{did}/post/{rkey}",
        "author": {"external_id": did},
        "source": {
            "via": "firehose",
            "cid": clip(commit.get("cid"), 120),
            "root_uri": clip((reply.get("root") or {}).get("uri"), 255),
            "root_cid": clip((reply.get("root") or {}).get("cid"), 120),
            "language": language,
        },
    }, after


def _strong_ref(uri: Any, cid: Any) -> models.ComAtprotoRepoStrongRef.Main:
    if not AT_URI.fullmatch(str(uri or "")) or not CID.fullmatch(str(cid or "")):
        raise ConnectorError("the answered post has no valid at:// URI and CID to reply to")
    return models.ComAtprotoRepoStrongRef.Main(uri=str(uri), cid=str(cid))


def _record(item: Any, author: Any, post: Any, via: str, indexed_at: str) -> Record | None:
    try:
        text = clip(post.text, 100_000)
        if not text:
            return None
        reply = getattr(post, "reply", None)
        rkey = str(item.uri).rsplit("/", 1)[-1]
        return {
            "external_id": clip(item.uri, 255),
            "text": text,
            "created_at": iso_time(post.created_at),
            "kind": "reply" if reply else "post",
            "in_reply_to": clip(reply.parent.uri, 255) if reply else "",
            "url": f"https://bsky.app/profile/{author.did}/post/{rkey}"
            if re.fullmatch(r"[A-Za-z0-9._~:-]{1,100}", rkey)
            and re.fullmatch(r"did:[a-z0-9:._%-]{1,200}", author.did)
            else "",
            "author": {
                "external_id": clip(author.did, 255),
                "handle": "@" + clip(author.handle, 250),
                "display_name": clip(author.display_name, 200),
            },
            "source": {
                "via": via,
                "cid": clip(item.cid, 120),
                "root_uri": clip(reply.root.uri, 255) if reply else "",
                "root_cid": clip(reply.root.cid, 120) if reply else "",
                "language": clip((getattr(post, "langs", None) or [""])[0], 8),
            },
            # Only to order and compare within the connector; dropped before ingest.
            "created_at_indexed": iso_time(indexed_at),
        }
    except (AttributeError, TypeError, ValueError) as exc:
        raise PayloadError(f"a post is not in Bluesky's format: {exc!r}") from None


class _translated:  # noqa: N801
    """Turns atproto's errors into the connector's."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if isinstance(exc, UnauthorizedError):
            raise AuthError(f"Bluesky refused the login: {_said(exc)}") from None
        if isinstance(exc, BadRequestError) and "ExpiredToken" in _said(exc):
            raise AuthError(f"the Bluesky session expired: {_said(exc)}") from None
        if isinstance(exc, RateLimitExceededError):
            headers = exc.response.headers if exc.response else {}
            raise RateLimitedError(rate_limit_until(headers)) from None
        if isinstance(exc, ModelError):
            raise PayloadError(
                f"Bluesky answered in an unexpected shape: {clip(exc, 300)}"
            ) from None
        if isinstance(exc, NetworkError | RequestException):
            raise ConnectorError(f"Bluesky answered with an error: {_said(exc)}") from None
        if isinstance(exc, AtProtocolError):
            raise ConnectorError(f"Bluesky client error: {clip(exc, 300)}") from None


def _said(exc: AtProtocolError) -> str:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    if content is not None and hasattr(content, "error"):
        return clip(f"{content.error}: {content.message or ''}", 300)
    status = getattr(response, "status_code", "")
    return clip(f"HTTP {status} {exc}".strip(), 300)


connector_class = BlueskyConnector
