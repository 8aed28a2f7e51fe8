"""The normalized shape every connector hands to ingest, and its validation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Long enough for any email or blog post we want to triage; a record above it is
# rejected with a clear reason rather than stored half.
MAX_TEXT_CHARS = 100_000
MAX_ID_CHARS = 255
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,63}")


class Author(BaseModel):
    """Who wrote a message, as the platform names them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    handle: str = Field(default="", max_length=255)
    display_name: str = Field(default="", max_length=200)
    profile_url: str = Field(default="", max_length=500)
    audience_size: int | None = Field(default=None, ge=0)
    verified_email: str = Field(default="", max_length=254)
    profile_links: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("verified_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and not EMAIL.fullmatch(value):
            raise ValueError("is not an email address")
        return value.lower()

    @field_validator("profile_links")
    @classmethod
    def _short_links(cls, value: list[str]) -> list[str]:
        return [link.strip()[:300] for link in value if link.strip()]

    @field_validator("profile_url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        return _check_http_url(value)


class RawRecord(BaseModel):
    """One message as a connector delivers it, before any processing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    created_at: datetime
    direction: Literal["in", "out"] = "in"
    kind: Literal["post", "reply", "direct", "email", "review", "board"] = "post"
    author: Author | None = None
    in_reply_to: str = Field(default="", max_length=MAX_ID_CHARS)
    url: str = Field(default="", max_length=1000)
    source: dict[str, Any] = Field(default_factory=dict)

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # Platforms that omit the zone (CSV exports) mean UTC.
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _check_http_url(value)


def _check_http_url(value: str) -> str:
    if value and not value.lower().startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value


@dataclass(frozen=True)
class Rejection:
    """A record that was not stored, with where it was and why."""

    record_number: int
    external_id: str
    reason: str


def parse_record(record_number: int, data: dict[str, Any]) -> RawRecord | Rejection:
    """Validate one connector record; a bad one becomes a Rejection with a readable reason."""
    bad_text = _find_bad_text(data, "")
    if bad_text:
        return Rejection(record_number, _printable_id(data), bad_text)
    try:
        return RawRecord.model_validate(data)
    except ValidationError as exc:
        return Rejection(record_number, _printable_id(data), _explain(exc))


def _printable_id(data: dict[str, Any]) -> str:
    return str(data.get("external_id", ""))[:80].encode("utf-8", "replace").decode("utf-8")


def _find_bad_text(value: object, where: str) -> str | None:
    """Say which field holds undecodable bytes or a NUL, which no database stores faithfully."""
    # Files are decoded with surrogateescape so one bad byte costs one record, not the import.
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{where or 'record'} is not valid UTF-8"
        if "\x00" in value:
            return f"{where or 'record'} contains a NUL character"
        return None
    if isinstance(value, dict):
        items: list[tuple[object, object]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return None
    for key, item in items:
        path = f"{where}.{key}" if where else str(key)
        found = _find_bad_text(key, path) or _find_bad_text(item, path)
        if found:
            return found
    return None


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(p) for p in error["loc"]) or "record"
        message = error["msg"]
        if error["type"] == "string_too_long":
            limit = error.get("ctx", {}).get("max_length")
            message = f"is too long (limit {limit:,} characters)"
        parts.append(f"{field} {message}")
    return "; ".join(parts)
