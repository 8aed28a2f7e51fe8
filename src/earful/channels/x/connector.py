"""X (tweepy, API v2): recent search and mentions in, replies out, for users with API access.

Per source the cursor keeps the newest tweet id stored (`since_id`) and, during a catch-up,
the `next_token` of the walk back through older pages. tweepy's host is fixed in its code,
so our HTTP wrapper rebases it onto the configured API origin (the same for api.x.com).
"""

from __future__ import annotations

import re
from typing import Any

import requests
import tweepy  # type: ignore[import-untyped]
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
from earful.channels.http import HttpPolicy, RateLimitedError, guarded_session, rate_limit_until
from earful.channels.listening import compile_query
from earful.channels.normalize import clip, iso_time

TWEET_ID = re.compile(r"[0-9]{1,25}")
USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
MAX_TWEET_CHARS = 280
TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "referenced_tweets", "lang"]
USER_FIELDS = ["username", "name", "public_metrics"]
TWEEPY_HOST = "https://api.twitter.com"


class XSettings(ChannelSettings):
    """An app's bearer token (reading) and the account's OAuth 1.0a tokens (replying)."""

    bearer_token: str = Field(min_length=10, max_length=500)
    user_id: str = Field(default="", pattern=r"^[0-9]{0,25}$")
    consumer_key: str = Field(default="", max_length=200)
    consumer_secret: str = Field(default="", max_length=200)
    access_token: str = Field(default="", max_length=200)
    access_token_secret: str = Field(default="", max_length=200)
    search: list[str] = Field(default_factory=list, max_length=10)
    page_size: int = Field(default=100, ge=10, le=100)
    api_base: HttpUrl = HttpUrl("https://api.x.com")


class XConnector(Connector):
    """Searches recent posts and reads mentions; replies as the account."""

    kind = "x"
    settings_model = XSettings
    settings: XSettings

    def _client(self) -> tweepy.Client:
        s = self.settings
        client = tweepy.Client(
            bearer_token=s.bearer_token,
            consumer_key=s.consumer_key or None,
            consumer_secret=s.consumer_secret or None,
            access_token=s.access_token or None,
            access_token_secret=s.access_token_secret or None,
            return_type=dict,
            wait_on_rate_limit=False,
        )
        policy = HttpPolicy(
            timeout=self.policy.timeout,
            retries=self.policy.retries,
            backoff=self.policy.backoff,
            max_wait=self.policy.max_wait,
            rebase={TWEEPY_HOST: str(s.api_base).rstrip("/")},
        )
        client.session = guarded_session(policy)
        return client

    def _queries(self) -> list[str]:
        queries = list(self.settings.search)
        for terms in self.listening:
            queries += compile_query(terms, "x")
        return list(dict.fromkeys(queries))

    def fetch(self, cursor: Cursor) -> FetchResult:
        """One page of mentions and of each search, newer than what is stored."""
        state = dict(cursor or {})
        client = self._client()
        records: list[Record] = []
        more = False
        with _translated():
            if self.settings.user_id:
                more |= self._source(
                    state,
                    "mentions",
                    records,
                    "mention",
                    lambda since, token: client.get_users_mentions(
                        self.settings.user_id,
                        since_id=since,
                        pagination_token=token,
                        max_results=self.settings.page_size,
                        tweet_fields=TWEET_FIELDS,
                        expansions=["author_id"],
                        user_fields=USER_FIELDS,
                    ),
                )
            for query in self._queries():
                more |= self._source(
                    state,
                    f"q:{query.lower()}",
                    records,
                    "search",
                    lambda since, token, q=query: client.search_recent_tweets(
                        q,
                        since_id=since,
                        next_token=token,
                        max_results=self.settings.page_size,
                        tweet_fields=TWEET_FIELDS,
                        expansions=["author_id"],
                        user_fields=USER_FIELDS,
                    ),
                )
        return FetchResult(records, state, more=more)

    def _source(
        self, state: dict[str, Any], key: str, out: list[Record], via: str, call: Any
    ) -> bool:
        """Read one page of a source; True if a catch-up walk goes on."""
        src = state.get(key) or {}
        since, token = src.get("since"), src.get("next")
        page = call(since, token)
        if not isinstance(page, dict):
            raise PayloadError("X answered with something that is not a JSON object")
        out.extend(to_records(page, via))
        meta = page.get("meta") or {}
        newest = str(meta.get("newest_id") or "")
        top = max([src.get("top") or "", newest], key=lambda i: int(i or 0))
        next_token = meta.get("next_token")
        if since and next_token:
            state[key] = {"since": since, "next": str(next_token), "top": top}
            return True
        state[key] = {"since": top or since, "next": None, "top": None}
        return False

    def send(self, reply: OutgoingReply) -> str:
        """Post the reply under the answered post; returns the new post's id."""
        if reply.in_reply_to and not TWEET_ID.fullmatch(reply.in_reply_to):
            raise ConnectorError("the answered post id is not an X post id")
        if len(reply.text) > MAX_TWEET_CHARS:
            raise ConnectorError(f"the reply is longer than {MAX_TWEET_CHARS} characters")
        user_auth = bool(self.settings.consumer_key and self.settings.access_token)
        with _translated():
            created = self._client().create_tweet(
                text=reply.text,
                in_reply_to_tweet_id=reply.in_reply_to or None,
                user_auth=user_auth,
            )
        try:
            return clip(created["data"]["id"], 255)
        except (KeyError, TypeError):
            raise PayloadError("X did not return the new post's id") from None

    def check(self) -> str:
        """Call the API once with the bearer token and say what it can read."""
        probe = self.settings.search[0] if self.settings.search else "from:X"
        with _translated():
            self._client().search_recent_tweets(probe, max_results=10)
        return "the bearer token can search recent posts"


def to_records(page: dict[str, Any], via: str) -> list[Record]:
    """The records of one v2 response (tweets with their authors expanded)."""
    try:
        users = {u["id"]: u for u in (page.get("includes") or {}).get("users", [])}
        records = []
        for tweet in page.get("data") or []:
            author = users.get(tweet.get("author_id"), {})
            username = str(author.get("username") or "")
            parent = next(
                (r["id"] for r in tweet.get("referenced_tweets", []) if r["type"] == "replied_to"),
                "",
            )
            tweet_id = str(tweet["id"])
            if not TWEET_ID.fullmatch(tweet_id):
                raise ValueError(f"not a post id: {tweet_id[:30]!r}")
            record: Record = {
                "external_id": tweet_id,
                "text": str(tweet["text"]),
                "created_at": iso_time(tweet["created_at"]),
                "kind": "reply" if parent else "post",
                "in_reply_to": str(parent),
                "url": f"https://x.com/{username}/status/{tweet_id}"
                if USERNAME.fullmatch(username)
                else "",
                "source": {
                    "via": via,
                    "language": clip(tweet.get("lang"), 8),
                    "conversation_id": clip(tweet.get("conversation_id"), 30),
                },
            }
            if author:
                metrics = author.get("public_metrics") or {}
                record["author"] = {
                    "external_id": clip(author["id"], 255),
                    "handle": "@" + clip(username, 15),
                    "display_name": clip(author.get("name"), 200),
                    "audience_size": max(0, int(metrics.get("followers_count") or 0)),
                }
            records.append(record)
        return records
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadError(f"a post is not in X's v2 format: {exc!r}") from None


class _translated:  # noqa: N801
    """Turns tweepy's errors into the connector's."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if isinstance(exc, tweepy.TooManyRequests):
            raise RateLimitedError(rate_limit_until(exc.response.headers)) from None
        if isinstance(exc, tweepy.Unauthorized | tweepy.Forbidden):
            raise AuthError(f"X refused the credentials: {_said(exc)}") from None
        if isinstance(exc, tweepy.HTTPException):
            raise ConnectorError(f"X answered with an error: {_said(exc)}") from None
        if isinstance(exc, tweepy.TweepyException):
            raise ConnectorError(f"X client error: {clip(exc, 300)}") from None
        if isinstance(exc, requests.RequestException):
            raise ConnectorError(f"cannot reach X: {clip(exc, 300)}") from None


def _said(exc: Any) -> str:
    return clip(" ".join(str(exc).split()), 300)


connector_class = XConnector
