"""Departments' outside destinations: issue trackers and chat rooms, behind one interface.

A destination opens a ticket for a hand-off (`open_ticket`), verifies and reads the
webhooks its platform sends back (`verify`, `updates`), or polls where webhooks cannot
reach earful (`poll`), and says in one sentence whether its credentials work (`check`).
Like channel connectors, destinations hold no database state: `inbox.tickets` stores what
they return and turns their updates into hand-off steps.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from earful.channels.connector import (
    AuthError,
    ConnectorError,
    PayloadError,
    SettingsError,
    validation_problems,
)
from earful.channels.http import HttpPolicy

__all__ = [
    "AuthError",
    "ConnectorError",
    "Destination",
    "DestinationSettings",
    "Notice",
    "OpenedTicket",
    "PayloadError",
    "Quote",
    "SettingsError",
    "TicketDraft",
    "TrackerUpdate",
    "WebhookRejectedError",
    "build_destination",
]


class WebhookRejectedError(Exception):
    """A webhook that is not from the destination (bad or missing signature, stale, replayed)."""


@dataclass(frozen=True)
class Quote:
    """One of the customer's messages as a ticket quotes it (already redacted)."""

    heading: str
    text: str


@dataclass(frozen=True)
class TicketDraft:
    """What a hand-off says at the destination. Each kind renders it in its own markup, and
    must keep the customer's words inert there (no mentions, links or markup of theirs)."""

    title: str
    question: str
    customer: str
    quotes: tuple[Quote, ...]
    labels: tuple[str, ...]
    reference: str
    link: str
    # Stable per ticket, so a platform that supports keys refuses a repeat after a crash.
    idempotency_key: str

    def plain_text(self) -> str:
        """The draft as plain text, for destinations that show text as it is."""
        quoted = [f"{quote.heading}:\n{quote.text}" for quote in self.quotes]
        return "\n\n".join([self.question, self.about(), *quoted, self.link])

    def about(self) -> str:
        """One line on whose words these are and how earful labelled them."""
        labels = ", ".join(self.labels) or "none"
        return f"About {self.reference}, from {self.customer}. Labels: {labels}."


@dataclass(frozen=True)
class Notice:
    """A notification for people not in earful all day (urgent item, SLA breach, mention):
    staff-written or earful-written text only, never the customer's words, and a link."""

    title: str
    text: str
    link: str


@dataclass(frozen=True)
class OpenedTicket:
    """The platform's id for what was opened and a link a person can follow."""

    external_id: str
    url: str


@dataclass(frozen=True)
class TrackerUpdate:
    """One step the department took at the destination.

    `state` is a hand-off status (acknowledged, in_progress, fixed, wont_fix) or "" when only
    a comment came; `comment` becomes an internal note on the conversation.
    """

    external_id: str
    state: str = ""
    comment: str = ""
    author: str = ""


class DestinationSettings(BaseModel):
    """Base of every kind's typed settings: unknown keys are refused, not silently kept."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Destination(ABC):
    """What every destination kind provides; trackers and chat differ in what comes back."""

    kind: ClassVar[str]
    settings_model: ClassVar[type[DestinationSettings]]
    # Notify-only kinds (a Teams incoming webhook) never send anything back.
    answers_back: ClassVar[bool] = True

    def __init__(self, settings: Any, policy: HttpPolicy) -> None:
        self.settings = settings
        self.policy = policy

    @abstractmethod
    def check(self) -> str:
        """Validate the credentials; return a sentence saying what works, or raise AuthError."""

    @abstractmethod
    def open_ticket(self, draft: TicketDraft) -> OpenedTicket:
        """Open the issue or post the message for a hand-off."""

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> str:
        """Check a webhook's signature; return a digest that identifies this delivery."""
        raise WebhookRejectedError(f"{self.kind} destinations do not take webhooks")

    def updates(self, headers: Mapping[str, str], body: bytes) -> list[TrackerUpdate]:
        """The hand-off steps a verified webhook carries (none for events earful ignores)."""
        return []

    def poll(self, external_ids: list[str], cursor: Any) -> tuple[list[TrackerUpdate], Any]:
        """Updates since the cursor for the given open tickets, and the cursor after them."""
        return [], cursor

    def notify(self, notice: Notice) -> None:
        """Post a notification to the destination's room or channel (chat kinds only)."""
        raise ConnectorError(f"{self.kind} destinations take tickets, not notifications")

    def handshake(self, headers: Mapping[str, str], body: bytes) -> bytes | None:
        """The answer to a platform's URL verification request, or None if this is not one."""
        return None


def hmac_sha256(secret: str, payload: bytes) -> str:
    """The hex HMAC-SHA256 of a payload, as trackers sign their webhooks."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def digest(*parts: str | bytes) -> str:
    """A hex SHA-256 over the parts, to remember a delivery by."""
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(part.encode() if isinstance(part, str) else part)
        hashed.update(b"\0")
    return hashed.hexdigest()


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value whatever its case (Django's META and plain dicts differ)."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""


# One line per kind: the module that defines `destination_class`.
REGISTRY: dict[str, str] = {
    "github": "earful.inbox.destinations.github",
    "gitlab": "earful.inbox.destinations.gitlab",
    "jira": "earful.inbox.destinations.jira",
    "slack": "earful.inbox.destinations.slack",
    "matrix": "earful.inbox.destinations.matrix",
    "teams": "earful.inbox.destinations.teams",
}


def destination_class(kind: str) -> type[Destination] | None:
    """The destination class of a kind, or None if earful has none for it yet."""
    module_name = REGISTRY.get(kind)
    if module_name is None or importlib.util.find_spec(module_name) is None:
        return None
    cls: type[Destination] = importlib.import_module(module_name).destination_class
    return cls


def parse_settings(kind: str, raw: dict[str, Any]) -> DestinationSettings:
    """Validate a destination's stored settings against its kind's schema."""
    cls = destination_class(kind)
    if cls is None:
        raise SettingsError(f"earful cannot reach {kind!r} destinations yet")
    try:
        return cls.settings_model.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(f"invalid {kind} settings: {validation_problems(exc)}") from None


def build_destination(
    kind: str, raw_settings: dict[str, Any], *, policy: HttpPolicy | None = None
) -> Destination:
    """A ready destination for the kind and settings."""
    settings = parse_settings(kind, raw_settings)
    cls = destination_class(kind)
    assert cls is not None
    return cls(settings, policy or HttpPolicy())
