"""Slack: a hand-off posts a message with buttons in the department's channel; the buttons and
the replies in its thread come back.

The message's buttons (Acknowledge, In progress, Fixed, Won't fix) come back through Slack's
interactivity (`block_actions`, a form with one `payload=` JSON field), replies in the
message's thread through the Events API (`message` events). Both are signed with the app's
signing secret: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">`, and a
request older than five minutes is refused. The Events API first asks the webhook address to
echo a challenge (`url_verification`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.error import URLError
from urllib.parse import parse_qs

from pydantic import Field
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import Clock, SignatureVerifier

from earful.channels.http import RateLimitedError, check_url, retry_after_seconds
from earful.inbox.destinations import (
    AuthError,
    ConnectorError,
    Destination,
    DestinationSettings,
    Notice,
    OpenedTicket,
    PayloadError,
    TicketDraft,
    TrackerUpdate,
    WebhookRejectedError,
    digest,
    header,
)

T = TypeVar("T")
# Slack refuses requests signed longer ago than this, and so do we.
MAX_AGE = timedelta(minutes=5)
# Slack's answers that mean the token is wrong, revoked or its workspace gone.
AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
ACTION_PREFIX = "earful_state:"
BUTTONS = (
    ("acknowledged", "Acknowledge", ""),
    ("in_progress", "In progress", ""),
    ("fixed", "Fixed", "primary"),
    ("wont_fix", "Won't fix", "danger"),
)
# A section's text may be 3,000 characters; headers 150.
SECTION_LIMIT = 2900


class SlackSettings(DestinationSettings):
    """The app's bot token, the department's channel, and the app's signing secret."""

    bot_token: str = Field(pattern=r"^xox[bp]-[\w-]+$")
    channel: str = Field(pattern=r"^[CG][A-Z0-9]{2,}$")
    signing_secret: str = Field(min_length=16)
    base_url: str = "https://slack.com/api/"


def escaped(text: str) -> str:
    """Text with Slack's three mrkdwn control characters escaped, as Slack documents: no
    `<!here>`, `<@U…>`, `<#C…>` or `<url|label>` of the writer's becomes live."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescaped(text: str) -> str:
    """A Slack message's text as its writer typed it (for an internal note in earful)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack does not turn the text's bare URLs, #channels or @names into links.
    return {"type": "mrkdwn", "text": text[:SECTION_LIMIT], "verbatim": True}


def _quoted(heading: str, text: str) -> str:
    lines = escaped(text[: SECTION_LIMIT - 200]).splitlines() or [""]
    return f"*{escaped(heading)}*\n" + "\n".join(f">{line}" for line in lines)


def blocks_for(draft: TicketDraft) -> list[dict[str, Any]]:
    """The Block Kit message of a hand-off: question, labels, quotes, link and buttons."""
    buttons = []
    for state, label, style in BUTTONS:
        button: dict[str, Any] = {
            "type": "button",
            "action_id": ACTION_PREFIX + state,
            "text": {"type": "plain_text", "text": label},
            "value": state,
        }
        if style:
            button["style"] = style
        buttons.append(button)
    return [
        {"type": "header", "text": {"type": "plain_text", "text": draft.title[:150]}},
        {"type": "section", "text": _mrkdwn(escaped(draft.question))},
        {"type": "context", "elements": [_mrkdwn(escaped(draft.about()))]},
        *(
            {"type": "section", "text": _mrkdwn(_quoted(quote.heading, quote.text))}
            for quote in draft.quotes
        ),
        {"type": "section", "text": _mrkdwn(f"<{draft.link}|Open the conversation in earful>")},
        {"type": "actions", "block_id": "earful_handoff", "elements": buttons},
    ]


class _At(Clock):
    """slack-sdk's verifier clock, set to the moment the webhook was received."""

    def __init__(self, now: datetime) -> None:
        self.moment = now.timestamp()

    def now(self) -> float:
        return self.moment


class SlackDestination(Destination):
    """A message per hand-off in one channel, with buttons; replies in its thread."""

    kind = "slack"
    settings_model = SlackSettings
    settings: SlackSettings

    def _call(self, work: Callable[[WebClient], T]) -> T:
        check_url(self.settings.base_url)
        # No retries inside the client: posting twice is worse than posting late, and the
        # ticket's own backoff retries a Slack that is down.
        client = WebClient(
            token=self.settings.bot_token,
            base_url=self.settings.base_url,
            timeout=int(self.policy.timeout),
            retry_handlers=[],
        )
        try:
            return work(client)
        except SlackApiError as exc:
            response = exc.response
            data = response.data if isinstance(response.data, dict) else {}
            error = str(data.get("error", "")) or "no reason given"
            if response.status_code == 429 or error == "ratelimited":
                wait = retry_after_seconds(dict(response.headers)) or 60.0
                until = datetime.now(UTC) + timedelta(seconds=wait)
                raise RateLimitedError(
                    until, f"Slack rate limited earful; retry after {int(wait)} s"
                ) from None
            if error in AUTH_ERRORS:
                raise AuthError(f"Slack refused the token ({error})") from None
            if response.status_code != 200:
                raise ConnectorError(f"Slack answered {response.status_code}") from None
            raise ConnectorError(f"Slack answered {error}") from None
        except (URLError, OSError, SlackClientError) as exc:
            raise ConnectorError(f"Slack could not be reached: {exc.__class__.__name__}") from None

    def check(self) -> str:
        """Who the token is (auth.test), and that it sees the channel (conversations.info)."""

        def read(client: WebClient) -> str:
            who = client.auth_test()
            info = client.conversations_info(channel=self.settings.channel)["channel"]
            name = info.get("name") or self.settings.channel
            if info.get("is_member") is False:
                raise ConnectorError(f"invite the app to #{name} first (/invite in the channel)")
            return f"can post in #{name} as {who.get('user')} in {who.get('team')}"

        return self._call(read)

    def open_ticket(self, draft: TicketDraft) -> OpenedTicket:
        """Post the hand-off's message in the channel; its id is `<channel>:<ts>`."""
        channel = self.settings.channel

        def post(client: WebClient) -> tuple[str, str]:
            posted = client.chat_postMessage(
                channel=channel,
                text=escaped(draft.title),
                blocks=blocks_for(draft),
                unfurl_links=False,
                unfurl_media=False,
                link_names=False,
            )
            ts = str(posted["ts"])
            try:
                link = str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
            except SlackApiError:
                # The message is posted; a missing link must not post it again.
                link = ""
            return ts, link

        ts, link = self._call(post)
        return OpenedTicket(f"{channel}:{ts}", link)

    def notify(self, notice: Notice) -> None:
        """Post a notification in the channel."""
        text = f"*{escaped(notice.title)}*\n{escaped(notice.text)}\n<{notice.link}|Open in earful>"

        def post(client: WebClient) -> None:
            client.chat_postMessage(
                channel=self.settings.channel,
                text=escaped(notice.title),
                blocks=[{"type": "section", "text": _mrkdwn(text)}],
                unfurl_links=False,
                unfurl_media=False,
            )

        self._call(post)

    def _signed(self, headers: Mapping[str, str], body: bytes, now: datetime) -> str:
        timestamp = header(headers, "X-Slack-Request-Timestamp")
        signature = header(headers, "X-Slack-Signature")
        if not timestamp.isdigit() or not signature:
            raise WebhookRejectedError("the request carries no Slack signature")
        if abs(now.timestamp() - int(timestamp)) > MAX_AGE.total_seconds():
            raise WebhookRejectedError("the Slack request is older than five minutes")
        verifier = SignatureVerifier(self.settings.signing_secret, clock=_At(now))
        if not verifier.is_valid(body, timestamp, signature):
            raise WebhookRejectedError("the X-Slack-Signature signature does not match")
        return signature

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> str:
        """Check the signing secret's signature and the request's age."""
        signature = self._signed(headers, body, now)
        # Slack retries an event with a fresh signature but the same event_id: either repeat
        # is the same delivery.
        event_id = ""
        if body.startswith(b"{"):
            try:
                event_id = str(json.loads(body).get("event_id", ""))
            except (ValueError, AttributeError):
                event_id = ""
        return digest("slack", event_id) if event_id else digest("slack", signature)

    def handshake(self, headers: Mapping[str, str], body: bytes) -> bytes | None:
        """Echo the Events API's `url_verification` challenge (signed, as Slack signs it)."""
        if not body.startswith(b"{"):
            return None
        try:
            payload = json.loads(body)
        except ValueError:
            return None
        if not isinstance(payload, dict) or payload.get("type") != "url_verification":
            return None
        try:
            self._signed(headers, body, datetime.now(UTC))
        except WebhookRejectedError:
            # Not answered here: the webhook path refuses and logs it.
            return None
        return json.dumps({"challenge": str(payload.get("challenge", ""))}).encode()

    def updates(self, headers: Mapping[str, str], body: bytes) -> list[TrackerUpdate]:
        """Button presses on the hand-off's message, and people's replies in its thread."""
        try:
            if body.startswith(b"{"):
                return self._event(json.loads(body))
            form = parse_qs(body.decode())
            if "payload" not in form:
                raise PayloadError("Slack sent neither an event nor an interaction payload")
            return self._interaction(json.loads(form["payload"][0]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PayloadError(f"Slack sent a payload without {exc}") from None

    def _interaction(self, payload: dict[str, Any]) -> list[TrackerUpdate]:
        if payload["type"] != "block_actions":
            return []
        channel = str(payload["channel"]["id"])
        if channel != self.settings.channel:
            return []
        ts = str(payload["container"]["message_ts"])
        user = payload.get("user") or {}
        author = str(user.get("username") or user.get("name") or user.get("id", ""))
        found = []
        for action in payload["actions"]:
            action_id = str(action["action_id"])
            state = action_id.removeprefix(ACTION_PREFIX)
            if action_id.startswith(ACTION_PREFIX) and state in {s for s, _, _ in BUTTONS}:
                found.append(TrackerUpdate(f"{channel}:{ts}", state=state, author=author))
        return found

    def _event(self, payload: dict[str, Any]) -> list[TrackerUpdate]:
        if payload["type"] != "event_callback":
            return []
        event = payload["event"]
        if event["type"] != "message" or event.get("subtype") not in (None, "thread_broadcast"):
            return []
        # Bots, earful's own app included, never speak for the department.
        if event.get("bot_id") or event.get("bot_profile"):
            return []
        thread = str(event.get("thread_ts") or "")
        channel = str(event["channel"])
        if not thread or thread == str(event.get("ts")) or channel != self.settings.channel:
            return []
        text = unescaped(str(event.get("text", "")))
        return [TrackerUpdate(f"{channel}:{thread}", comment=text, author=str(event["user"]))]


destination_class = SlackDestination
