"""Matrix: a hand-off posts a message in the department's room; its thread answers back.

Matrix has no outgoing webhooks for a plain bot account, so earful polls: each tick a
`/sync` from the stored `next_batch` cursor reads the room's new messages. A reply in the
hand-off message's thread (`m.thread`), or a reply to it (`m.in_reply_to`), becomes an
internal note; `!ack`, `!progress`, `!fixed <answer>` and `!wontfix <answer>` there move
the hand-off. The bot's own messages and notices (`m.notice`, what bots send) are ignored.

matrix-nio is asyncio: each call runs its own event loop (`asyncio.run`) inside the sync
methods, with nio's own retries off (the ticket's backoff retries a homeserver that is down).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from nio import AsyncClient, AsyncClientConfig, ErrorResponse, MessageDirection
from pydantic import Field

from earful.channels.http import RateLimitedError, check_url
from earful.inbox.destinations import (
    AuthError,
    ConnectorError,
    Destination,
    DestinationSettings,
    Notice,
    OpenedTicket,
    TicketDraft,
    TrackerUpdate,
)

T = TypeVar("T")
log = logging.getLogger(__name__)
# Errors that mean the access token is wrong, logged out or its account deactivated.
AUTH_ERRORS = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_USER_DEACTIVATED"})
COMMANDS = {
    "!ack": "acknowledged",
    "!progress": "in_progress",
    "!fixed": "fixed",
    "!wontfix": "wont_fix",
}
# What Synapse answers to a `since` token it cannot read ("Invalid stream token").
STALE = frozenset({"M_UNKNOWN", "M_INVALID_PARAM"})
# Messages read per /sync; a busier room is read back page by page from the cursor.
TIMELINE_LIMIT = 100
MAX_PAGES = 20


class MatrixSettings(DestinationSettings):
    """The homeserver, the bot account and its access token, and the department's room."""

    homeserver: str = Field(pattern=r"^https?://\S+$")
    user_id: str = Field(pattern=r"^@[^:\s]+:\S+$")
    access_token: str = Field(min_length=1)
    # Room versions before 12 end in `:server`; version 12 ids are the hash alone.
    room_id: str = Field(pattern=r"^![^\s/]+$")
    # Matrix cannot call earful back: its room is read every tick.
    poll: bool = True


def _sync_filter(room_id: str) -> dict[str, Any]:
    nothing: dict[str, Any] = {"types": []}
    return {
        "presence": nothing,
        "account_data": nothing,
        "room": {
            "rooms": [room_id],
            "timeline": {"limit": TIMELINE_LIMIT, "types": ["m.room.message"]},
            "state": nothing,
            "ephemeral": nothing,
            "account_data": nothing,
        },
    }


def _content(body: str, formatted: str, msgtype: str = "m.text") -> dict[str, Any]:
    # An empty m.mentions says the message mentions nobody: clients then do not look in the
    # text for a user id or @room, so none of the customer's pings anyone.
    return {
        "msgtype": msgtype,
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted,
        "m.mentions": {},
    }


def message_for(draft: TicketDraft) -> dict[str, Any]:
    """The hand-off's message: plain `body`, and HTML where every text is escaped and the
    customer's words sit in code blocks (no link, pill or markup of theirs is live)."""
    body = f"{draft.title}\n\n{draft.plain_text()}"
    quoted = "".join(
        f"<p><strong>{html.escape(q.heading)}</strong></p>"
        f"<pre><code>{html.escape(q.text)}</code></pre>"
        for q in draft.quotes
    )
    formatted = (
        f"<h4>{html.escape(draft.title)}</h4>"
        f"<pre><code>{html.escape(draft.question)}</code></pre>"
        f"<p>{html.escape(draft.about())}</p>"
        f"{quoted}"
        f'<p><a href="{html.escape(draft.link)}">Open the conversation in earful</a></p>'
    )
    return _content(body, formatted)


def without_fallback(body: str) -> str:
    """A reply's text without the quoted original clients put before it (`> ` lines)."""
    lines = body.splitlines()
    if not lines or not lines[0].startswith("> <"):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()


def _root(content: dict[str, Any]) -> str:
    relation = content.get("m.relates_to")
    if not isinstance(relation, dict):
        return ""
    if relation.get("rel_type") == "m.thread":
        return str(relation.get("event_id", ""))
    reply = relation.get("m.in_reply_to")
    return str(reply.get("event_id", "")) if isinstance(reply, dict) else ""


def update_of(event: dict[str, Any], bot: str, wanted: set[str]) -> TrackerUpdate | None:
    """What a room message says about a ticket: a command, a comment, or nothing."""
    content = event.get("content")
    if event.get("type") != "m.room.message" or not isinstance(content, dict):
        return None
    sender = str(event.get("sender", ""))
    if sender == bot or content.get("msgtype") not in ("m.text", "m.emote"):
        return None
    root = _root(content)
    if root not in wanted:
        return None
    text = without_fallback(str(content.get("body", ""))).strip()
    word, _, rest = text.partition(" ")
    state = COMMANDS.get(word.lower(), "")
    if state:
        return TrackerUpdate(root, state=state, comment=rest.strip(), author=sender)
    return TrackerUpdate(root, comment=text, author=sender) if text else None


def permalink(room_id: str, event_id: str, user_id: str) -> str:
    """A matrix.to link to the event, routed through the bot's homeserver."""
    server = user_id.partition(":")[2]
    return (
        f"https://matrix.to/#/{quote(room_id, safe='')}/{quote(event_id, safe='')}"
        f"?via={quote(server, safe='')}"
    )


async def _refuse_redirect(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceRequestRedirectParams,
) -> None:
    # The client-server API does not redirect; following one could lead past the address
    # guard (to a private address), so the homeserver's own address must be configured.
    status = params.response.status
    raise ConnectorError(
        f"the homeserver answered with a redirect ({status}): "
        "give the address it redirects to instead"
    )


def _run_to_completion(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a loop of its own; on a thread of its own when the calling thread
    already runs a loop (a caller that is itself asyncio), since a loop cannot be nested."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


class MatrixDestination(Destination):
    """A message per hand-off in one room; its thread answers back through polling."""

    kind = "matrix"
    settings_model = MatrixSettings
    settings: MatrixSettings

    def _run(self, work: Callable[[AsyncClient], Awaitable[T]]) -> T:
        check_url(self.settings.homeserver)
        config = AsyncClientConfig(
            max_timeouts=0,
            max_limit_exceeded=0,
            request_timeout=self.policy.timeout,
        )

        async def session() -> T:
            client = AsyncClient(
                self.settings.homeserver.rstrip("/"), self.settings.user_id, config=config
            )
            client.access_token = self.settings.access_token
            # Our own session, so that no redirect is followed past the address guard.
            refuse = aiohttp.TraceConfig()
            refuse.on_request_redirect.append(_refuse_redirect)
            client.client_session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.policy.timeout),
                trace_configs=[refuse],
            )
            try:
                return await work(client)
            finally:
                await client.close()

        try:
            return _run_to_completion(session())
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ConnectorError(f"Matrix could not be reached: {exc.__class__.__name__}") from None

    async def _timed(self, call: Awaitable[T]) -> T:
        # nio sends a sync with timeout=0 as no timeout at all: a homeserver that hangs must
        # not hang the tick, so every call has the policy's.
        return await asyncio.wait_for(call, self.policy.timeout)

    def _ok(self, response: Any) -> Any:
        if not isinstance(response, ErrorResponse):
            return response
        code = str(response.status_code or "")
        if code in AUTH_ERRORS:
            raise AuthError(f"Matrix refused the token ({code})")
        if code == "M_LIMIT_EXCEEDED":
            wait = (response.retry_after_ms or 30_000) / 1000
            raise RateLimitedError(
                datetime.now(UTC) + timedelta(seconds=wait),
                f"Matrix rate limited earful; retry after {int(wait)} s",
            )
        message = str(response.message or "no reason given")
        raise ConnectorError(f"Matrix answered {code or 'an error'}: {message}")

    def check(self) -> str:
        """Who the token is (whoami), and that it has joined the room, unencrypted."""
        room = self.settings.room_id

        async def read(client: AsyncClient) -> str:
            who = self._ok(await self._timed(client.whoami()))
            if who.user_id != self.settings.user_id:
                raise ConnectorError(f"the token is {who.user_id}'s, not {self.settings.user_id}'s")
            members = await self._timed(client.joined_members(room))
            if isinstance(members, ErrorResponse) and members.status_code == "M_FORBIDDEN":
                raise ConnectorError(f"invite {who.user_id} to {room} and let it join first")
            joined = self._ok(members).members
            encryption = await self._timed(client.room_get_state_event(room, "m.room.encryption"))
            if not isinstance(encryption, ErrorResponse):
                raise ConnectorError(
                    f"{room} is end-to-end encrypted: earful needs an unencrypted room"
                )
            return f"can post in {room} as {who.user_id} ({len(joined)} members)"

        return self._run(read)

    def _send(self, content: dict[str, Any], tx_id: str | None = None) -> str:
        room = self.settings.room_id

        async def send(client: AsyncClient) -> str:
            # The transaction id makes a resend after a crash the same event, not a second.
            sent = self._ok(
                await self._timed(client.room_send(room, "m.room.message", content, tx_id=tx_id))
            )
            return str(sent.event_id)

        return self._run(send)

    def open_ticket(self, draft: TicketDraft) -> OpenedTicket:
        """Post the hand-off's message in the room; its id is the event id."""
        event_id = self._send(message_for(draft), tx_id=f"earful-{draft.idempotency_key}")
        url = permalink(self.settings.room_id, event_id, self.settings.user_id)
        return OpenedTicket(event_id, url)

    def notify(self, notice: Notice) -> None:
        """Post a notification in the room as a notice (what bots send)."""
        body = f"{notice.title}\n{notice.text}\n{notice.link}"
        formatted = (
            f"<p><strong>{html.escape(notice.title)}</strong><br>{html.escape(notice.text)}</p>"
            f'<p><a href="{html.escape(notice.link)}">Open in earful</a></p>'
        )
        self._send(_content(body, formatted, "m.notice"))

    def poll(self, external_ids: list[str], cursor: Any) -> tuple[list[TrackerUpdate], Any]:
        """The room's messages since the cursor (a `next_batch` token) about open tickets."""
        room = self.settings.room_id
        since = str(cursor) if cursor else None

        async def read(client: AsyncClient) -> tuple[list[dict[str, Any]], str]:
            nonlocal since
            synced = await self._timed(
                client.sync(timeout=0, sync_filter=_sync_filter(room), since=since)
            )
            if since and isinstance(synced, ErrorResponse) and synced.status_code in STALE:
                # A cursor the homeserver no longer takes (a new server, a reset database)
                # would stop the room being read for good: start again from its latest page.
                log.warning(
                    "Matrix refused the sync cursor of %s (%s); starting over", room, synced
                )
                since = None
                synced = await self._timed(client.sync(timeout=0, sync_filter=_sync_filter(room)))
            synced = self._ok(synced)
            joined = synced.rooms.join.get(room)
            if joined is None:
                return [], str(synced.next_batch)
            events = [event.source for event in joined.timeline.events]
            if joined.timeline.limited and since:
                events = await self._earlier(client, joined.timeline.prev_batch, since) + events
            return events, str(synced.next_batch)

        events, next_batch = self._run(read)
        wanted = set(external_ids)
        found = [update_of(event, self.settings.user_id, wanted) for event in events]
        return [update for update in found if update is not None], next_batch

    async def _earlier(self, client: AsyncClient, start: str, until: str) -> list[dict[str, Any]]:
        # The sync's timeline was cut short: read back from where it starts to the cursor.
        earlier: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            page = self._ok(
                await self._timed(
                    client.room_messages(
                        self.settings.room_id,
                        start,
                        end=until,
                        direction=MessageDirection.back,
                        limit=TIMELINE_LIMIT,
                        message_filter={"types": ["m.room.message"]},
                    )
                )
            )
            earlier = [event.source for event in reversed(page.chunk)] + earlier
            if not page.chunk or not page.end:
                break
            start = page.end
        return earlier


destination_class = MatrixDestination
