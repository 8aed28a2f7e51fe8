"""Discourse (pydiscourse): posts in chosen categories in, staff replies out, "solved" mirrored.

Posts are read from `/posts.json` (pydiscourse's `latest_posts`), the site's newest posts
first, walking back with `before=<post id>` until the stored newest id is reached; the cursor
keeps that id and, during a catch-up walk, where the walk stands. Posts outside the chosen
categories are skipped. A post's id in earful is "<topic id>:<post number>", so a reply names
its parent by `reply_to_post_number` (or the topic's first post) and threads by itself.

"Solved" comes from the discourse-solved plugin: each poll that reaches the newest post reads
the chosen categories' topic lists (`has_accepted_answer`) and, for a topic newly solved, the
topic (`accepted_answer`, and its posts' ids); the conversation holding those posts is then
resolved by the system with the reason "solved on Discourse".

pydiscourse calls `requests.request` itself, with no session to inject and a sleeping retry
on 429; its `_request` is therefore replaced by one that goes through our guarded session
(address guard on every hop, the policy's timeout) and turns a 429 into a paused channel.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

import requests
from django.utils import timezone
from pydantic import Field, HttpUrl, StringConstraints
from pydiscourse import DiscourseClient  # type: ignore[import-untyped]

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
from earful.channels.models import Channel
from earful.channels.normalize import clip, html_to_text, iso_time

log = logging.getLogger(__name__)

RECORD_ID = re.compile(r"([0-9]{1,15}):([0-9]{1,9})")
SLUG = re.compile(r"[a-z0-9-]{1,100}")
USERNAME = re.compile(r"[A-Za-z0-9_.-]{1,60}")
MAX_POST_CHARS = 32_000
# Topic ids remembered as solved, so each is mirrored once (the newest are kept).
MAX_SOLVED_KEPT = 2000
SOLVED_REASON = "solved on Discourse"


class DiscourseSettings(ChannelSettings):
    """The forum, an admin API key for the staff user replies are posted as, and the categories."""

    base_url: HttpUrl
    api_key: str = Field(min_length=16, max_length=200)
    api_username: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    # Category ids, and slugs looked up in /site.json; none at all reads every category.
    categories: list[int] = Field(default_factory=list, max_length=50)
    category_slugs: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,100}$")]] = Field(
        default_factory=list, max_length=50
    )
    mirror_solved: bool = True


class _GuardedClient(DiscourseClient):
    """pydiscourse's client with its requests sent through the guarded session."""

    def __init__(self, settings: DiscourseSettings, policy: HttpPolicy) -> None:
        super().__init__(
            str(settings.base_url).rstrip("/"),
            api_username=settings.api_username,
            api_key=settings.api_key,
            timeout=policy.timeout,
        )
        self.session = guarded_session(policy)

    def _request(
        self,
        verb: str,
        path: str,
        params: dict[str, Any] | None = None,
        files: Any = None,
        data: dict[str, Any] | None = None,
        json: Any = None,
        override_request_kwargs: dict[str, Any] | None = None,
    ) -> Any:
        headers = {
            "Accept": "application/json; charset=utf-8",
            "Api-Key": self.api_key,
            "Api-Username": self.api_username,
        }
        allow = bool((override_request_kwargs or {}).get("allow_redirects"))
        try:
            response = self.session.request(
                verb,
                self.host + path,
                params=params,
                data=data,
                json=json,
                headers=headers,
                allow_redirects=allow,
            )
        except requests.RequestException as exc:
            raise ConnectorError(f"cannot reach the forum: {clip(exc, 300)}") from None
        return _answer(response)


def _answer(response: requests.Response) -> Any:
    """The JSON of a Discourse answer, or the connector error its status means."""
    code = response.status_code
    if code == 429:
        wait = _json_or_none(response)
        extras = wait.get("extras") if isinstance(wait, dict) else None
        seconds = extras.get("wait_seconds") if isinstance(extras, dict) else None
        headers = dict(response.headers)
        if isinstance(seconds, int | float) and "Retry-After" not in response.headers:
            headers["Retry-After"] = str(int(seconds))
        raise RateLimitedError(rate_limit_until(headers))
    if code in (401, 403):
        raise AuthError(f"the forum refused the API key (HTTP {code}): {_said(response)}")
    if 300 <= code < 400:
        raise AuthError(f"the forum redirected the API call (HTTP {code}); check the address")
    if code == 404:
        raise ConnectorError(f"not found on the forum: {_said(response)}")
    if code >= 400:
        raise ConnectorError(f"the forum answered HTTP {code}: {_said(response)}")
    data = _json_or_none(response)
    if not isinstance(data, dict):
        raise PayloadError("the forum answered with something that is not a JSON object")
    return data


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _said(response: requests.Response) -> str:
    data = _json_or_none(response)
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors:
        return clip(" ".join(str(e) for e in errors), 300)
    return clip(response.reason, 100)


class DiscourseConnector(Connector):
    """Reads the forum's newest posts; replies in the topic as the staff user."""

    kind = "discourse"
    settings_model = DiscourseSettings
    settings: DiscourseSettings

    def __init__(self, settings: Any, policy: HttpPolicy) -> None:
        super().__init__(settings, policy)
        # Topics found newly solved by the last fetch: (topic id, its posts' record ids).
        self.newly_solved: list[tuple[int, list[str]]] = []
        self.category_ids: list[int] = []

    def _client(self) -> _GuardedClient:
        return _GuardedClient(self.settings, self.policy)

    def fetch(self, cursor: Cursor) -> FetchResult:
        """One page of posts newer than the stored id; at the newest, the solved topics."""
        state = dict(cursor or {})
        since = _int_or_none(state.get("since"))
        before = _int_or_none(state.get("before"))
        client = self._client()
        self.category_ids = self._categories(client)
        page = client.latest_posts(before=before)
        posts = page.get("latest_posts")
        if not isinstance(posts, list):
            raise PayloadError("the forum's /posts.json has no latest_posts list")
        ids = [_post_id(p) for p in posts]
        fresh = [p for p, i in zip(posts, ids, strict=True) if since is None or i > since]
        records = [r for r in (self._record(p) for p in fresh) if r is not None]
        top = max([_int_or_none(state.get("top")) or 0, *ids], default=0)
        # Walk back while a full page is still newer than what is stored.
        walking = since is not None and bool(ids) and len(fresh) == len(posts) and min(ids) > 1
        if walking:
            state.update(before=min(ids), top=top)
        else:
            state.update(since=top or since, before=None, top=None)
            if self.settings.mirror_solved:
                state["solved"] = self._solved(client, state.get("solved"))
        return FetchResult(records, state, more=walking)

    def _record(self, post: Any) -> Record | None:
        record = to_record(post, str(self.settings.base_url).rstrip("/"))
        wanted = self.category_ids
        if record is None or (wanted and record["source"]["category_id"] not in wanted):
            return None
        if record["source"]["username"].lower() == self.settings.api_username.lower():
            # What earful posted as the staff user comes back here; it is stored already.
            return None
        if post.get("staff") is True:
            record["direction"] = "out"
        return record

    def _categories(self, client: _GuardedClient) -> list[int]:
        """The chosen category ids, slugs looked up in the site's category list."""
        ids = list(self.settings.categories)
        if not self.settings.category_slugs:
            return ids
        site = client.get_site_info()
        try:
            by_slug = {str(c["slug"]): _int(c["id"]) for c in site["categories"]}
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"/site.json is not in Discourse's format: {exc!r}") from None
        for slug in self.settings.category_slugs:
            if slug not in by_slug:
                raise ConnectorError(f"the forum has no category {slug!r} that the key can see")
            ids.append(by_slug[slug])
        return list(dict.fromkeys(ids))

    def _solved(self, client: _GuardedClient, known: Any) -> list[int]:
        """The solved topics of the chosen categories; notes those newly solved."""
        before = {int(t) for t in known or [] if isinstance(t, int)}
        solved: list[int] = []
        listed: set[int] = set()
        self.newly_solved = []
        for category in self.category_ids:
            listing = client.category_topics(category)
            try:
                topics = listing["topic_list"]["topics"]
                # The field is there only when the discourse-solved plugin is installed.
                flagged = [
                    (int(t["id"]), str(t["slug"])) for t in topics if t.get("has_accepted_answer")
                ]
                listed.update(int(t["id"]) for t in topics)
            except (KeyError, TypeError, ValueError) as exc:
                raise PayloadError(f"a topic list is not in Discourse's format: {exc!r}") from None
            for topic_id, slug in flagged:
                solved.append(topic_id)
                if topic_id not in before:
                    posts = self._accepted_topic_posts(client, slug, topic_id)
                    if posts:
                        self.newly_solved.append((topic_id, posts))
        # A listed topic without an accepted answer is forgotten (solved again: mirrored
        # again); one solved before but off the list's first page stays remembered.
        kept = [t for t in before if t not in listed] + solved
        return sorted(set(kept))[-MAX_SOLVED_KEPT:]

    def _accepted_topic_posts(self, client: _GuardedClient, slug: str, topic_id: int) -> list[str]:
        """The record ids of a topic's posts if its answer is accepted; empty if not after all."""
        topic = client.topic(slug if SLUG.fullmatch(slug) else "topic", topic_id)
        try:
            if not topic.get("accepted_answer"):
                return []
            numbers = [int(p["post_number"]) for p in topic["post_stream"]["posts"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"a topic is not in Discourse's format: {exc!r}") from None
        # The first post names the topic's conversation; later ones cover a split thread.
        return [f"{topic_id}:{n}" for n in numbers]

    def after_ingest(self, channel: Channel, result: FetchResult) -> None:
        """Resolve the conversations of topics the last fetch found newly solved."""
        for topic_id, record_ids in self.newly_solved:
            resolve_solved(channel, topic_id, record_ids)
        self.newly_solved = []

    def send(self, reply: OutgoingReply) -> str:
        """Post the answer in the topic, as a reply to the customer's post."""
        match = RECORD_ID.fullmatch(reply.in_reply_to)
        if match is None:
            raise ConnectorError("the answered post is not a Discourse post of this forum")
        if len(reply.text) > MAX_POST_CHARS:
            raise ConnectorError(f"the reply is longer than {MAX_POST_CHARS} characters")
        topic_id, number = int(match.group(1)), int(match.group(2))
        created = self._client().create_post(
            reply.text, topic_id=topic_id, reply_to_post_number=number
        )
        try:
            return f"{int(created['topic_id'])}:{int(created['post_number'])}"
        except (KeyError, TypeError, ValueError):
            raise PayloadError("the forum did not return the new post's number") from None

    def check(self) -> str:
        """Read the API user's profile with the key (a wrong key is refused) and say its role."""
        user = self._client().user(self.settings.api_username)
        if not isinstance(user, dict):
            raise PayloadError("the forum's user answer is not in Discourse's format")
        staff = "staff" if user.get("admin") or user.get("moderator") else "not staff"
        name = clip(user.get("username"), 60)
        return f"the key acts as @{name} ({staff}) on {self.settings.base_url}"


def resolve_solved(channel: Channel, topic_id: int, record_ids: list[str]) -> None:
    """Resolve, as the system, each open conversation holding posts of a solved topic."""
    # Imported here: the inbox builds on channels, not the other way round.
    from earful.conversations.models import Conversation, Status
    from earful.inbox.workflow import set_status

    conversations = Conversation.objects.filter(
        messages__channel=channel, messages__external_id__in=record_ids
    ).exclude(status__in=[Status.RESOLVED, Status.MERGED])
    for conversation in conversations.distinct().order_by("pk"):
        set_status(conversation, Status.RESOLVED, by=None, now=timezone.now(), reason=SOLVED_REASON)
        log.info("discourse topic %s solved: conversation %s resolved", topic_id, conversation.pk)


def to_record(post: Any, base_url: str) -> Record | None:
    """The record for one post of /posts.json; None for a deleted or hidden one."""
    try:
        if post.get("deleted_at") or post.get("hidden"):
            return None
        topic_id, number = _int(post["topic_id"]), _int(post["post_number"])
        text = str(post.get("raw") or "").strip() or html_to_text(str(post.get("cooked") or ""))
        if not text:
            return None
        username = str(post["username"])
        if not USERNAME.fullmatch(username):
            raise ValueError(f"not a username: {username[:30]!r}")
        parent = post.get("reply_to_post_number")
        slug = str(post.get("topic_slug") or "")
        return {
            "external_id": f"{topic_id}:{number}",
            "text": text,
            "created_at": iso_time(post["created_at"]),
            "kind": "post" if number == 1 else "reply",
            "in_reply_to": "" if number == 1 else f"{topic_id}:{_int(parent) if parent else 1}",
            "url": f"{base_url}/t/{slug}/{topic_id}/{number}" if SLUG.fullmatch(slug) else "",
            "author": {
                "external_id": str(_int(post["user_id"])),
                "handle": "@" + username,
                "display_name": clip(post.get("name"), 200),
                "profile_url": f"{base_url}/u/{username}",
            },
            "source": {
                "via": "forum",
                "subject": clip(post.get("topic_title"), 200),
                "topic_id": topic_id,
                "post_id": _post_id(post),
                "post_number": number,
                "category_id": _int(post["category_id"]),
                "username": username,
            },
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadError(f"a post is not in Discourse's format: {exc!r}") from None


def _post_id(post: Any) -> int:
    try:
        return _int(post["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError(f"a post is not in Discourse's format: {exc!r}") from None


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not a number: {str(value)[:30]!r}")
    return value


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


connector_class = DiscourseConnector
