"""Reddit (praw): new posts of subreddits, site search and username mentions in; replies out.

Every source is a Reddit listing read newest first; the cursor keeps the newest fullname of
each, and `before=` that fullname asks only for what is newer, page by page, so a restart
resumes. Fields are read from what the listing delivered (never through praw's lazy
attributes, which would fetch again for anything missing).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import praw
import prawcore
from pydantic import Field, HttpUrl, model_validator

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
from earful.channels.listening import compile_query
from earful.channels.normalize import clip, http_url, iso_time

FULLNAME = re.compile(r"t[13]_[a-z0-9]{1,13}")
SUBREDDIT = re.compile(r"[A-Za-z0-9_]{2,21}")
MAX_COMMENT_CHARS = 10_000
MAX_TITLE_CHARS = 300


class RedditSettings(ChannelSettings):
    """A 'script' or 'web' app's id and secret, the account, and what to follow."""

    client_id: str = Field(min_length=5, max_length=100)
    client_secret: str = Field(min_length=5, max_length=200)
    username: str = Field(default="", max_length=40)
    password: str = Field(default="", max_length=200)
    refresh_token: str = Field(default="", max_length=500)
    user_agent: str = Field(default="earful:social-listening:v0.1", min_length=10, max_length=200)
    subreddits: list[str] = Field(default_factory=list, max_length=30)
    # Where the brand's own posts go (its subreddit, or one it may post in); empty: none.
    post_subreddit: str = Field(default="", max_length=21)
    search: list[str] = Field(default_factory=list, max_length=20)
    mentions: bool = True
    page_size: int = Field(default=100, ge=1, le=100)
    oauth_url: HttpUrl = HttpUrl("https://oauth.reddit.com")
    reddit_url: HttpUrl = HttpUrl("https://www.reddit.com")

    @model_validator(mode="after")
    def _credentials(self) -> RedditSettings:
        if not self.refresh_token and not (self.username and self.password):
            raise ValueError("needs a refresh_token, or a username and password (script app)")
        names = [*self.subreddits, self.post_subreddit] if self.post_subreddit else self.subreddits
        if any(not SUBREDDIT.fullmatch(s.removeprefix("r/")) for s in names):
            raise ValueError("subreddits must be plain subreddit names")
        return self


class RedditConnector(Connector):
    """Reads listings through praw on our guarded session."""

    kind = "reddit"
    settings_model = RedditSettings
    settings: RedditSettings

    def _reddit(self) -> praw.Reddit:
        s = self.settings
        credentials: dict[str, Any] = (
            {"refresh_token": s.refresh_token}
            if s.refresh_token
            else {"username": s.username, "password": s.password}
        )
        return praw.Reddit(
            client_id=s.client_id,
            client_secret=s.client_secret,
            user_agent=s.user_agent,
            oauth_url=str(s.oauth_url).rstrip("/"),
            reddit_url=str(s.reddit_url).rstrip("/"),
            requestor_kwargs={"session": guarded_session(self.policy)},
            check_for_updates=False,
            check_for_async=False,
            **credentials,
        )

    def _sources(self) -> list[tuple[str, str, str, dict[str, str]]]:
        sources: list[tuple[str, str, str, dict[str, str]]] = []
        if self.settings.mentions:
            sources.append(("mentions", "mention", "/message/mentions", {}))
        for name in self.settings.subreddits:
            sub = name.removeprefix("r/")
            sources.append((f"r:{sub.lower()}", "feed", f"/r/{sub}/new", {}))
        searches = list(self.settings.search)
        for query in self.listening:
            searches += compile_query(query, "reddit")
        for q in dict.fromkeys(searches):
            sources.append((f"q:{q.lower()}", "search", "/search", {"q": q, "sort": "new"}))
        return sources

    def fetch(self, cursor: Cursor) -> FetchResult:
        """One page of each listing newer than its stored fullname."""
        state = dict(cursor or {})
        reddit = self._reddit()
        records: list[Record] = []
        more = False
        with _translated():
            for key, via, path, params in self._sources():
                before = state.get(key)
                query: dict[str, str | int] = {
                    **params,
                    "limit": self.settings.page_size,
                    "raw_json": 1,
                }
                if before:
                    query["before"] = before
                listing = reddit.get(path, params=query)
                things = list(getattr(listing, "children", None) or [])
                for thing in things:
                    record = to_record(vars(thing), thing.__class__.__name__, via)
                    if record is not None:
                        records.append(record)
                names = [vars(t).get("name", "") for t in things]
                if names and FULLNAME.fullmatch(str(names[0])):
                    state[key] = names[0]
                more = more or (bool(before) and len(things) >= self.settings.page_size)
        return FetchResult(records, state, more=more)

    def send(self, reply: OutgoingReply) -> str:
        """Comment under the post or comment answered, or (answering nothing) submit a brand
        post to `post_subreddit`; returns the new thing's fullname."""
        if not reply.in_reply_to:
            return self._submit(reply.text)
        if not FULLNAME.fullmatch(reply.in_reply_to):
            raise ConnectorError("a Reddit reply needs the fullname (t1_/t3_) of what it answers")
        if len(reply.text) > MAX_COMMENT_CHARS:
            raise ConnectorError(f"the reply is longer than {MAX_COMMENT_CHARS} characters")
        with _translated():
            comment = self._reddit().post(
                "/api/comment", data={"thing_id": reply.in_reply_to, "text": reply.text}
            )
        # praw's objector hands back the created things as a list.
        created = comment[0] if isinstance(comment, list) and comment else comment
        name = getattr(created, "__dict__", {}).get("name")
        if not name:
            raise PayloadError("Reddit did not return the new comment")
        return clip(name, 255)

    def _submit(self, text: str) -> str:
        subreddit = self.settings.post_subreddit.removeprefix("r/")
        if not subreddit:
            raise ConnectorError("set the subreddit brand posts go to (post_subreddit)")
        title, _, body = text.strip().partition("\n")
        if not title.strip() or len(title) > MAX_TITLE_CHARS:
            raise ConnectorError(
                f"a Reddit post's first line is its title: 1 to {MAX_TITLE_CHARS} characters"
            )
        with _translated():
            created = self._reddit().post(
                "/api/submit",
                data={
                    "sr": subreddit,
                    "kind": "self",
                    "title": title.strip(),
                    "text": body.strip(),
                    "api_type": "json",
                    "resubmit": "true",
                },
            )
        post_id = getattr(created, "__dict__", {}).get("id")
        if not isinstance(post_id, str) or not post_id:
            raise PayloadError("Reddit did not return the new post")
        return clip(f"t3_{post_id}", 255)

    def check(self) -> str:
        """Authenticate and name the account."""
        with _translated():
            me = self._reddit().user.me()
        name = getattr(me, "__dict__", {}).get("name", "?")
        return f"logged in as u/{clip(name, 40)}"


def to_record(data: dict[str, Any], kind: str, via: str) -> Record | None:
    """The record for a submission or comment as a listing delivered it."""
    try:
        name = str(data["name"])
        if not FULLNAME.fullmatch(name):
            raise ValueError(f"not a post or comment fullname: {name[:20]!r}")
        if kind == "Comment" or name.startswith("t1_"):
            text = str(data.get("body") or "")
            parent = str(data.get("parent_id") or "")
        else:
            title, body = str(data.get("title") or ""), str(data.get("selftext") or "")
            text = f"{title}\n\n{body}".strip()
            parent = ""
        if not text or text in ("[deleted]", "[removed]"):
            return None
        author = data.get("author")
        author_name = str(vars(author).get("name", "") if author is not None else "")
        created = datetime.fromtimestamp(float(data["created_utc"]), UTC)
        permalink = str(data.get("permalink") or data.get("context") or "")
        record: Record = {
            "external_id": name,
            "text": text,
            "created_at": iso_time(created),
            "kind": "reply" if parent else "post",
            "in_reply_to": parent if FULLNAME.fullmatch(parent) else "",
            "url": http_url("https://www.reddit.com" + permalink)
            if permalink.startswith("/")
            else "",
            "source": {"via": via, "subreddit": clip(data.get("subreddit_name_prefixed"), 30)},
        }
        if author_name and author_name != "[deleted]":
            record["author"] = {
                "external_id": clip(data.get("author_fullname") or author_name, 255),
                "handle": "u/" + clip(author_name, 40),
                "profile_url": http_url(f"https://www.reddit.com/user/{author_name}"),
            }
        return record
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError(f"a listing item is not in Reddit's format: {exc!r}") from None


class _translated:  # noqa: N801
    """Turns praw's and prawcore's errors into the connector's."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if isinstance(exc, prawcore.TooManyRequests):
            raise RateLimitedError(rate_limit_until(exc.response.headers)) from None
        if isinstance(exc, prawcore.OAuthException):
            raise AuthError(f"Reddit refused the credentials: {clip(exc, 200)}") from None
        if isinstance(exc, prawcore.ResponseException):
            status = exc.response.status_code
            if status in (401, 403):
                raise AuthError(f"Reddit refused the token (HTTP {status})") from None
            raise ConnectorError(f"Reddit answered HTTP {status}") from None
        if isinstance(exc, prawcore.RequestException):
            raise ConnectorError(
                f"cannot reach Reddit: {clip(exc.original_exception, 200)}"
            ) from None
        if isinstance(exc, praw.exceptions.RedditAPIException):
            raise ConnectorError(f"Reddit refused: {clip(exc, 300)}") from None
        if isinstance(exc, prawcore.PrawcoreException | praw.exceptions.PRAWException):
            raise ConnectorError(f"Reddit client error: {clip(exc, 300)}") from None


connector_class = RedditConnector
