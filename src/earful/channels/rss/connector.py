"""RSS / Atom: blogs, review sites, forums and news, read with feedparser.

The feed is fetched by our HTTP wrapper (never by feedparser, which would bypass the address
guard) with a conditional GET, so an unchanged feed costs a 304 and no parsing. Paged feeds
(RFC 5005 `rel="next"`) are walked page by page, each page stored before the next is asked
for, until an entry we already hold appears.
"""

from __future__ import annotations

import calendar
import io
from datetime import UTC, datetime
from typing import Any

import feedparser  # type: ignore[import-untyped]
import requests
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
)
from earful.channels.http import RateLimitedError, guarded_session, rate_limit_until
from earful.channels.normalize import clip, html_to_text, http_url

# Entry ids remembered to stop a paging walk; a feed page rarely holds more than 100.
SEEN_KEPT = 500
MAX_FEED_BYTES = 10 * 1024 * 1024


class RssSettings(ChannelSettings):
    """A feed address, with HTTP basic credentials for private feeds."""

    url: HttpUrl
    username: str = Field(default="", max_length=200)
    password: str = Field(default="", max_length=200)


class RssConnector(Connector):
    """Reads a feed; feeds cannot be answered."""

    kind = "rss"
    settings_model = RssSettings
    settings: RssSettings

    def fetch(self, cursor: Cursor) -> FetchResult:
        """The head of the feed (conditional GET), or the next page of a paging walk."""
        state = dict(cursor or {})
        seen: list[str] = list(state.get("seen", []))
        walking = state.get("next")
        url = str(walking or self.settings.url)
        headers = {}
        if not walking:
            if state.get("etag"):
                headers["If-None-Match"] = str(state["etag"])
            if state.get("modified"):
                headers["If-Modified-Since"] = str(state["modified"])
        response = self._get(url, headers)
        if response.status_code == 304:
            return FetchResult([], state)
        feed = self._parse(response, url)
        records = [r for r in (self._record(e, feed) for e in feed.entries) if r is not None]
        new = [r for r in records if r["external_id"] not in seen]
        next_page = _next_link(feed)
        # Stop walking back as soon as a page holds something already stored.
        more = bool(next_page) and len(new) == len(records) and bool(records)
        if not walking:
            state["etag"] = response.headers.get("ETag", "")
            state["modified"] = response.headers.get("Last-Modified", "")
        state["next"] = next_page if more else None
        state["seen"] = ([r["external_id"] for r in new] + seen)[:SEEN_KEPT]
        return FetchResult(new, state, more=more)

    def _get(self, url: str, headers: dict[str, str]) -> requests.Response:
        auth = (self.settings.username, self.settings.password) if self.settings.username else None
        with guarded_session(self.policy) as session:
            try:
                response = session.get(url, headers=headers, auth=auth)
            except requests.RequestException as exc:
                raise ConnectorError(f"cannot fetch the feed: {exc}") from None
        if len(response.content) > MAX_FEED_BYTES:
            raise PayloadError("the feed is larger than 10 MB")
        if response.status_code in (401, 403):
            raise AuthError(f"the feed refused our credentials (HTTP {response.status_code})")
        if response.status_code == 429:
            raise RateLimitedError(rate_limit_until(response.headers))
        if response.status_code not in (200, 304):
            raise ConnectorError(f"the feed answered HTTP {response.status_code}")
        return response

    def _parse(self, response: requests.Response, url: str) -> Any:
        # Given bytes, feedparser does no I/O of its own; the headers give it the charset
        # and the base for relative links.
        feed = feedparser.parse(
            io.BytesIO(response.content),
            response_headers={
                "content-type": response.headers.get("Content-Type", "application/xml"),
                "content-location": url,
            },
        )
        if feed.bozo and not feed.entries:
            reason = getattr(feed, "bozo_exception", "not a feed")
            raise PayloadError(f"the feed is not valid RSS or Atom: {reason}")
        return feed

    def _record(self, entry: Any, feed: Any) -> Record | None:
        external_id = clip(entry.get("id") or entry.get("link"), 255)
        title = html_to_text(entry.get("title", ""))
        body = entry.get("content", [{}])[0].get("value") or entry.get("summary", "")
        text = "\n\n".join(part for part in (title, html_to_text(body)) if part)
        if not external_id or not text:
            return None
        moment = entry.get("published_parsed") or entry.get("updated_parsed")
        created = datetime.fromtimestamp(calendar.timegm(moment), UTC) if moment else None
        record: Record = {
            "external_id": external_id,
            "text": text,
            "created_at": (created or datetime.now(UTC)).isoformat(),
            "kind": "post",
            "url": http_url(entry.get("link")),
            "source": {"via": "feed", "feed": clip(feed.feed.get("title"), 200)},
        }
        author = clip(entry.get("author"), 200)
        if author:
            record["author"] = {"external_id": author, "handle": author, "display_name": author}
        return record

    def send(self, reply: OutgoingReply) -> str:
        """Feeds are read-only: answer on the site itself."""
        raise ConnectorError("an RSS or Atom feed cannot be answered; reply on the site itself")

    def check(self) -> str:
        """Fetch the feed once and say what it holds."""
        response = self._get(str(self.settings.url), {})
        feed = self._parse(response, str(self.settings.url))
        title = clip(feed.feed.get("title"), 100) or "untitled"
        return f"feed {title!r} answers with {len(feed.entries)} entries"


def _next_link(feed: Any) -> str:
    for link in feed.feed.get("links", []):
        if link.get("rel") == "next":
            return http_url(link.get("href"))
    return ""


connector_class = RssConnector
