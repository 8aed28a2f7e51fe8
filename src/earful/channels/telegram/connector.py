"""Telegram (python-telegram-bot): a bot in a business's support chat and groups.

Messages come by long polling (`getUpdates`, the next `offset` is the cursor) or, when the
channel is set to webhook, by POST to /in/telegram/<channel code>/ with the secret token
Telegram sends in `X-Telegram-Bot-Api-Secret-Token` (telegram/receiver.py). A message id is
unique only within its chat, so a record's id is "<chat id>:<message id>". python-telegram-bot
is asyncio: each call runs in its own event loop from these synchronous methods.
"""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import httpx
from pydantic import Field, HttpUrl
from telegram import Bot, ReplyParameters
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

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
from earful.channels.http import RateLimitedError, check_url
from earful.channels.normalize import clip, iso_time

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
CHAT_ID = re.compile(r"-?[0-9]{1,20}")
RECORD_ID = re.compile(r"(-?[0-9]{1,20}):([0-9]{1,20})")
USERNAME = re.compile(r"[A-Za-z0-9_]{4,32}")
MAX_MESSAGE_CHARS = 4096
ALLOWED_UPDATES = ["message"]
T = TypeVar("T")
BOT_TOKEN_IN_URL = re.compile(r"/bot[0-9]{1,20}:[A-Za-z0-9_-]+")


class _HideToken(logging.Filter):
    """Blanks the bot token that the Bot API puts in every URL out of httpx's and PTB's logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if BOT_TOKEN_IN_URL.search(message):
            record.msg, record.args = BOT_TOKEN_IN_URL.sub("/bot<token>", message), ()
        return True


# A logger's filter sees only what is logged to that very logger, so each one that writes
# URLs is named: httpx's request line, the Bot's and the request classes' debug lines.
for _name in ("httpx", "telegram", "telegram.Bot", "telegram.BaseRequest", "telegram.HTTPXRequest"):
    logging.getLogger(_name).addFilter(_HideToken())


class TelegramSettings(ChannelSettings):
    """The bot's token from @BotFather, how updates arrive, and the webhook's secret token."""

    bot_token: str = Field(min_length=20, max_length=100, pattern=r"^[0-9]{1,20}:[A-Za-z0-9_-]+$")
    receive: Literal["polling", "webhook"] = "polling"
    # Sent by Telegram with every webhook call (setWebhook's secret_token: A-Z a-z 0-9 _ -).
    webhook_secret: str = Field(default="", max_length=256, pattern=r"^[A-Za-z0-9_-]*$")
    max_per_minute: int = Field(default=600, ge=1, le=100_000)
    page_size: int = Field(default=100, ge=1, le=100)
    api_base: HttpUrl = HttpUrl("https://api.telegram.org")


class _GuardedAsyncTransport(httpx.AsyncHTTPTransport):
    """python-telegram-bot's httpx transport, with every request passing the address guard."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_url(str(request.url))
        return await super().handle_async_request(request)


class TelegramConnector(Connector):
    """Reads updates with getUpdates (unless they come by webhook) and answers in the chat."""

    kind = "telegram"
    settings_model = TelegramSettings
    settings: TelegramSettings

    def _run(self, call: Callable[[Bot], Awaitable[T]]) -> T:
        async def go() -> T:
            timeout = self.policy.timeout
            request = HTTPXRequest(
                connection_pool_size=2,
                read_timeout=timeout,
                write_timeout=timeout,
                connect_timeout=timeout,
                pool_timeout=timeout,
                # Proxies from the environment would bypass the address guard.
                httpx_kwargs={"transport": _GuardedAsyncTransport(), "trust_env": False},
            )
            bot = Bot(
                self.settings.bot_token,
                base_url=str(self.settings.api_base).rstrip("/") + "/bot",
                request=request,
                get_updates_request=request,
            )
            try:
                return await call(bot)
            finally:
                await request.shutdown()

        with _translated():
            return _run_to_completion(go())

    def fetch(self, cursor: Cursor) -> FetchResult:
        """The updates after the stored offset (none to poll when they come by webhook)."""
        if self.settings.receive == "webhook":
            return FetchResult([], cursor)
        offset = (cursor or {}).get("offset")
        limit = self.settings.page_size
        updates = self._run(
            lambda bot: bot.get_updates(
                offset=offset if isinstance(offset, int) else None,
                limit=limit,
                timeout=0,
                allowed_updates=ALLOWED_UPDATES,
            )
        )
        records: list[Record] = []
        next_offset = offset
        for update in updates:
            data = update.to_dict()
            record = to_record(data)
            if record is not None:
                records.append(record)
            next_offset = max(int(next_offset or 0), update.update_id + 1)
        state = {"offset": next_offset} if next_offset is not None else dict(cursor or {})
        return FetchResult(records, state, more=len(updates) >= limit)

    def send(self, reply: OutgoingReply) -> str:
        """Send the answer to the chat, as a reply to the customer's message."""
        chat_id, message_id = _target(reply)
        if len(reply.text) > MAX_MESSAGE_CHARS:
            raise ConnectorError(f"the reply is longer than {MAX_MESSAGE_CHARS} characters")
        parameters = (
            ReplyParameters(message_id=message_id, allow_sending_without_reply=True)
            if message_id
            else None
        )
        sent = self._run(
            lambda bot: bot.send_message(
                chat_id=chat_id, text=reply.text, reply_parameters=parameters
            )
        )
        return f"{chat_id}:{sent.message_id}"

    def check(self) -> str:
        """Ask getMe who the bot is."""
        me = self._run(lambda bot: bot.get_me())
        how = "by webhook" if self.settings.receive == "webhook" else "by polling"
        return f"the token belongs to the bot @{clip(me.username, 32)}; messages arrive {how}"


def _run_to_completion(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a loop of its own, on a thread of its own if this thread runs a loop
    already (a caller that is itself asyncio, e.g. under Playwright), since loops do not nest."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def _target(reply: OutgoingReply) -> tuple[int, int | None]:
    """The chat to answer in and the message answered: from the context, the id, or the user."""
    match = RECORD_ID.fullmatch(reply.in_reply_to)
    # A first message to a person goes to their private chat, whose id is their user id.
    chat = str(reply.context.get("chat_id") or (match.group(1) if match else reply.to))
    if not CHAT_ID.fullmatch(chat):
        raise ConnectorError("the answered message names no Telegram chat")
    if reply.in_reply_to and match is None:
        raise ConnectorError("the answered message id is not a Telegram message id")
    return int(chat), int(match.group(2)) if match else None


def to_record(update: dict[str, Any]) -> Record | None:
    """The record for one update (Bot API JSON); None for one without text (a sticker, a join)."""
    try:
        update_id = update["update_id"]
        if not isinstance(update_id, int):
            raise ValueError("update_id is not a number")
        message = update.get("message")
        if message is None:
            return None
        text = str(message.get("text") or message.get("caption") or "").strip()
        if not text:
            return None
        chat = message["chat"]
        chat_id, message_id = _int(chat["id"]), _int(message["message_id"])
        parent = message.get("reply_to_message")
        chat_type = str(chat["type"])
        record: Record = {
            "external_id": f"{chat_id}:{message_id}",
            "text": text,
            "created_at": iso_time(_int(message["date"])),
            "kind": "direct" if chat_type == "private" else ("reply" if parent else "post"),
            "in_reply_to": f"{chat_id}:{_int(parent['message_id'])}" if parent else "",
            "url": _link(chat, message_id),
            "source": {
                "via": "chat",
                "chat_id": str(chat_id),
                "chat_type": clip(chat_type, 20),
                "chat_title": clip(chat.get("title"), 200),
                "update_id": update_id,
            },
        }
        sender = message.get("from")
        if sender:
            username = str(sender.get("username") or "")
            name = " ".join(
                str(p) for p in (sender.get("first_name"), sender.get("last_name")) if p
            )
            record["author"] = {
                "external_id": str(_int(sender["id"])),
                "handle": "@" + username if USERNAME.fullmatch(username) else "",
                "display_name": clip(name, 200),
                "profile_url": f"https://t.me/{username}" if USERNAME.fullmatch(username) else "",
            }
        return record
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadError(f"an update is not in the Bot API's format: {exc!r}") from None


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not a number: {str(value)[:30]!r}")
    return value


def _link(chat: dict[str, Any], message_id: int) -> str:
    # Only public groups have a link anyone can open; a private chat's username is the user's.
    username = str(chat.get("username") or "")
    public = chat.get("type") in ("supergroup", "channel") and USERNAME.fullmatch(username)
    return f"https://t.me/{username}/{message_id}" if public else ""


class _translated:  # noqa: N801
    """Turns python-telegram-bot's errors into the connector's."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if isinstance(exc, RetryAfter):
            with warnings.catch_warnings():
                # Reading retry_after warns that its type will change; both types are handled.
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise RateLimitedError(datetime.now(UTC) + timedelta(seconds=seconds)) from None
        if isinstance(exc, InvalidToken):
            raise AuthError(f"Telegram refused the bot token: {clip(exc.message, 300)}") from None
        if isinstance(exc, Conflict):
            raise ConnectorError(
                "Telegram holds this bot's updates for a webhook; set the channel to receive "
                f"by webhook or delete the webhook ({clip(exc.message, 200)})"
            ) from None
        if isinstance(exc, Forbidden | BadRequest):
            raise ConnectorError(f"Telegram refused the call: {clip(exc.message, 300)}") from None
        if isinstance(exc, NetworkError):
            raise ConnectorError(f"cannot reach Telegram: {clip(exc.message, 300)}") from None
        if isinstance(exc, TelegramError):
            raise PayloadError(
                f"Telegram answered unexpectedly: {clip(exc.message, 300)}"
            ) from None
        if isinstance(exc, KeyError | TypeError | ValueError):
            # python-telegram-bot builds its objects from the answer and fails on a bad one.
            raise PayloadError(f"an answer is not in the Bot API's format: {exc!r}") from None


connector_class = TelegramConnector
