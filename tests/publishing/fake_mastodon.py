"""A Mastodon instance on 127.0.0.1 that takes new statuses as the REST API documents them.

POST /api/v1/statuses answers with a Status entity; a repeated Idempotency-Key gets the
status already created for it (Mastodon keeps keys for an hour), so a re-sent post is not
posted twice. `fail_next` answers the next posts with those error statuses first.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from tests.channels.fakes import FakeServer, Reply, Seen

TOKEN = "brand-token-123"
ACCOUNT: dict[str, Any] = {
    "id": "109372847",
    "username": "acmeair",
    "acct": "acmeair",
    "display_name": "Acme Air",
    "locked": False,
    "bot": False,
    "created_at": "2023-02-11T00:00:00.000Z",
    "note": "",
    "url": "https://social.example/@acmeair",
    "avatar": "https://social.example/avatars/original/missing.png",
    "avatar_static": "https://social.example/avatars/original/missing.png",
    "header": "",
    "header_static": "",
    "followers_count": 15200,
    "following_count": 180,
    "statuses_count": 2214,
    "last_status_at": "2026-11-20",
    "emojis": [],
    "fields": [],
}


class FakeMastodon:
    """The statuses endpoint and the account check of one brand account."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.created: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}
        self.fail_next: list[int] = []
        self.uploads: list[Seen] = []
        server.route("POST", "/api/v1/statuses", self.post)
        # Mastodon.py picks v1 or v2 by the version it assumes; the instance answers both.
        server.route("POST", "/api/v(1|2)/media", self.upload)
        server.route("GET", "/api/v1/accounts/verify_credentials", self.me)

    def settings(self) -> dict[str, Any]:
        """A channel's settings pointing at this instance."""
        return {"base_url": self.server.url, "access_token": TOKEN, "mentions": False}

    def me(self, seen: Seen) -> Reply:
        return 200, {}, ACCOUNT

    def upload(self, seen: Seen) -> Reply:
        """POST /api/v1/media (processed at once) or /api/v2/media (processed later, url null):
        a MediaAttachment, as documented."""
        if seen.headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {}, {"error": "The access token is invalid"}
        self.uploads.append(seen)
        number = str(109900000000000000 + len(self.uploads))
        attachment = {
            "id": number,
            "type": "image",
            "url": None if "/v2/" in seen.path else f"https://social.example/media/{number}.png",
            "preview_url": f"https://social.example/media/{number}/small.png",
            "remote_url": None,
            "text_url": None,
            "meta": {},
            "description": None,
            "blurhash": None,
        }
        return (202 if "/v2/" in seen.path else 200), {}, attachment

    def post(self, seen: Seen) -> Reply:
        if seen.headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {}, {"error": "The access token is invalid"}
        if self.fail_next:
            return self.fail_next.pop(0), {}, {"error": "Service Unavailable"}
        key = seen.headers.get("idempotency-key", "")
        if key and key in self.by_key:
            return 200, {}, self.by_key[key]
        form = _body(seen)
        number = 113600000000000000 + len(self.created) + 1
        status = {
            "id": str(number),
            "created_at": "2026-11-23T10:00:00.000Z",
            "in_reply_to_id": form.get("in_reply_to_id"),
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": form.get("visibility", "public"),
            "language": "en",
            "uri": f"https://social.example/users/acmeair/statuses/{number}",
            "url": f"https://social.example/@acmeair/{number}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "content": f"<p>{form.get('status', '')}</p>",
            "reblog": None,
            "application": {"name": "earful", "website": None},
            "account": ACCOUNT,
            "media_attachments": [{"id": i, "type": "image"} for i in _media_ids(seen)],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        self.created.append(status)
        if key:
            self.by_key[key] = status
        return 200, {}, status


def _body(seen: Seen) -> dict[str, Any]:
    if seen.headers.get("content-type", "").startswith("application/json"):
        data: dict[str, Any] = json.loads(seen.body or b"{}")
        return data
    return {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}


def _media_ids(seen: Seen) -> list[str]:
    if seen.headers.get("content-type", "").startswith("application/json"):
        return [str(i) for i in json.loads(seen.body or b"{}").get("media_ids", [])]
    return parse_qs(seen.body.decode()).get("media_ids[]", [])
