"""Slack's Web API and its signed requests to apps, as documented, on a loopback server.

The Web API answers HTTP 200 with `{"ok": false, "error": "<code>"}` for refusals
(`invalid_auth`, `channel_not_found`), and HTTP 429 with `Retry-After` when rate limited.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.channels.fakes import FakeServer, Reply, Seen

FIXTURES = Path(__file__).resolve().parents[3] / "src/earful/inbox/destinations/fixtures/slack"
TOKEN = "xoxb-1234567890-0987654321-EarfulTestTokenAbcdef"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C0ITHELP01"


def fixture(name: str) -> Any:
    """One of the Slack payload fixtures, parsed."""
    return json.loads((FIXTURES / name).read_text())


class FakeSlack:
    """One workspace with one channel: auth.test, conversations.info, chat.postMessage."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.posted: list[dict[str, Any]] = []
        # "down" answers 503, "limited" the documented 429 with Retry-After, "" serves.
        self.mode = ""
        self.retry_after = "30"
        server.route("POST", "/api/auth.test", self.authed(self.auth_test))
        server.route("POST", "/api/conversations.info", self.authed(self.conversations_info))
        server.route("POST", "/api/chat.postMessage", self.authed(self.post_message))
        server.route("POST", "/api/chat.getPermalink", self.authed(self.permalink))

    def authed(self, handler: Callable[[Seen], Reply]) -> Callable[[Seen], Reply]:
        def check(seen: Seen) -> Reply:
            if self.mode == "down":
                return 503, {"Content-Type": "text/html"}, "<html>Service Unavailable</html>"
            if seen.headers.get("authorization") != f"Bearer {TOKEN}":
                return 200, {}, fixture("error_invalid_auth.json")
            if self.mode == "limited":
                return 429, {"Retry-After": self.retry_after}, fixture("error_ratelimited.json")
            return handler(seen)

        return check

    @staticmethod
    def _args(seen: Seen) -> dict[str, Any]:
        # Web API methods take a JSON body, a form, or query parameters.
        if seen.headers.get("content-type", "").startswith("application/json"):
            return dict(seen.json())
        args = {key: values[0] for key, values in seen.form().items()} if seen.body else {}
        return {**{key: values[0] for key, values in seen.query.items()}, **args}

    def auth_test(self, seen: Seen) -> Reply:
        return 200, {}, fixture("auth_test.json")

    def conversations_info(self, seen: Seen) -> Reply:
        if self._args(seen).get("channel") != CHANNEL:
            return 200, {}, fixture("error_channel_not_found.json")
        return 200, {}, fixture("conversations_info.json")

    def post_message(self, seen: Seen) -> Reply:
        args = self._args(seen)
        if args.get("channel") != CHANNEL:
            return 200, {}, fixture("error_channel_not_found.json")
        answer = fixture("chat_postMessage.json")
        ts = f"1762077600.{100 + len(self.posted):06d}"
        answer["ts"] = answer["message"]["ts"] = ts
        answer["message"]["text"] = args.get("text", "")
        answer["message"]["blocks"] = args.get("blocks", [])
        self.posted.append(args)
        return 200, {}, answer

    def permalink(self, seen: Seen) -> Reply:
        args = self._args(seen)
        answer = fixture("chat_getPermalink.json")
        answer["permalink"] = (
            f"https://acme-air.slack.com/archives/{args['channel']}/"
            f"p{args['message_ts'].replace('.', '')}"
        )
        return 200, {}, answer

    def press(self, ts: str, state: str, user: str = "ivy") -> dict[str, Any]:
        """A member presses a button on the message; returns the `block_actions` payload."""
        payload: dict[str, Any] = fixture("block_actions.json")
        payload["container"]["message_ts"] = payload["message"]["ts"] = ts
        payload["user"]["username"] = payload["user"]["name"] = user
        action = payload["actions"][0]
        action.update(action_id=f"earful_state:{state}", value=state)
        return payload

    def reply(self, ts: str, text: str, event_id: str = "Ev0REPLY0001") -> dict[str, Any]:
        """A member replies in the message's thread; returns the Events API payload."""
        payload: dict[str, Any] = copy.deepcopy(fixture("event_message_reply.json"))
        payload["event"].update(thread_ts=ts, text=text)
        payload["event_id"] = event_id
        return payload


def signed_body(
    body: bytes, content_type: str, timestamp: int, secret: str = SIGNING_SECRET
) -> dict[str, Any]:
    """The request Slack sends an app for a body: signed with the signing secret."""
    base = f"v0:{timestamp}:".encode() + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "data": body,
        "content_type": content_type,
        "headers": {
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        },
    }


def signed_event(payload: dict[str, Any], timestamp: int, **extra: Any) -> dict[str, Any]:
    """An Events API request (JSON body), signed."""
    return signed_body(json.dumps(payload).encode(), "application/json", timestamp, **extra)


def signed_action(payload: dict[str, Any], timestamp: int, **extra: Any) -> dict[str, Any]:
    """An interactivity request (a form with one `payload` field of JSON), signed."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return signed_body(body, "application/x-www-form-urlencoded", timestamp, **extra)
