"""The connector interface every channel kind implements, and the registry of kinds.

A connector turns one platform into records that `channels.records.RawRecord` accepts:
`fetch(cursor)` polls one page, `stream(cursor)` (push sources) yields records as they come,
`send(reply)` answers through the platform and returns its id, and `check()` says in one
sentence whether the credentials work. Connectors hold no database state: the cursor they
get and return is plain JSON that the scheduler stores after each successful page.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from earful.channels.http import HttpPolicy, OutboundError

if TYPE_CHECKING:
    from earful.channels.listening import Terms
    from earful.channels.models import Channel

Record = dict[str, Any]
Cursor = dict[str, Any] | None
StreamItem = tuple[Record | None, Cursor]


class ConnectorError(OutboundError):
    """A platform call that failed; the message is shown to the user as the channel's error."""


class AuthError(ConnectorError):
    """The credentials were refused or have expired; a person has to renew them."""


class PayloadError(ConnectorError):
    """The platform answered with something that is not what its documentation promises."""


class SettingsError(ConnectorError):
    """The channel's settings do not fit its kind's schema."""


@dataclass(frozen=True)
class FetchResult:
    """One page of records and the cursor that fetches the next; `more` if a page follows."""

    records: list[Record]
    cursor: Cursor
    more: bool = False


@dataclass(frozen=True)
class Attachment:
    """A file to publish with a post: where it is on disk, its checked type, its alt text."""

    path: str
    content_type: str
    description: str = ""


@dataclass(frozen=True)
class OutgoingReply:
    """A reply to send: the text, what it answers, and to whom on the platform."""

    text: str
    # The external id of the message answered; empty for a first message.
    in_reply_to: str = ""
    # The recipient's external id or address on the platform (an email address for email).
    to: str = ""
    # What the answered message's connector kept in the record's `source` (subject, thread).
    context: dict[str, Any] = field(default_factory=dict)
    # Stable per outbox item, so a retried send is recognised by platforms that support it.
    idempotency_key: str = ""
    # Images or video for a brand post; only kinds whose connector `takes_media` get any.
    media: tuple[Attachment, ...] = ()


class ChannelSettings(BaseModel):
    """Base of every kind's typed settings: unknown keys are refused, not silently kept."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Connector(ABC):
    """What every channel kind provides; `stream` only where the platform pushes."""

    kind: ClassVar[str]
    settings_model: ClassVar[type[ChannelSettings]]
    # Push-only kinds (webhook, widget) are not polled by the scheduler.
    polled: ClassVar[bool] = True
    streams: ClassVar[bool] = False
    # Whether `send` publishes OutgoingReply.media (uploads the files with the post).
    takes_media: ClassVar[bool] = False

    def __init__(self, settings: Any, policy: HttpPolicy) -> None:
        self.settings = settings
        self.policy = policy
        # The channel's listening queries, handed over by the scheduler for networks whose
        # search the connector drives (connectors hold no database state of their own).
        self.listening: list[Terms] = []

    @abstractmethod
    def fetch(self, cursor: Cursor) -> FetchResult:
        """One page of new records after the cursor, and the cursor after them."""

    @abstractmethod
    def send(self, reply: OutgoingReply) -> str:
        """Publish the reply and return the platform's id for it."""

    @abstractmethod
    def check(self) -> str:
        """Validate the credentials; return a sentence saying what works, or raise AuthError."""

    def after_ingest(self, channel: Channel, result: FetchResult) -> None:
        """Mirror what the page said beyond messages (e.g. a solved topic); most kinds: nothing."""
        return None

    def stream(self, cursor: Cursor) -> Iterator[StreamItem]:
        """Yield (record or None, cursor) as the platform pushes, from the cursor, until closed.

        None stands for an event that was read but kept nothing, so the cursor still moves.
        """
        raise NotImplementedError(f"{self.kind} channels are polled, not streamed")


class PushConnector(Connector):
    """A kind whose messages arrive by POST to earful (webhook, widget): nothing to poll."""

    polled = False

    def fetch(self, cursor: Cursor) -> FetchResult:
        """Nothing to poll: messages arrive by POST."""
        return FetchResult([], cursor)


# One line per kind: the module of its folder that defines `connector_class`.
REGISTRY: dict[str, str] = {
    "rss": "earful.channels.rss.connector",
    "email": "earful.channels.email.connector",
    "mastodon": "earful.channels.mastodon.connector",
    "bluesky": "earful.channels.bluesky.connector",
    "reddit": "earful.channels.reddit.connector",
    "x": "earful.channels.x.connector",
    "webhook": "earful.channels.webhook.connector",
    "widget": "earful.channels.widget.connector",
    "telegram": "earful.channels.telegram.connector",
    "discourse": "earful.channels.discourse.connector",
}


def connector_class(kind: str) -> type[Connector] | None:
    """The connector class of a kind, or None for kinds without one (file imports)."""
    module_name = REGISTRY.get(kind)
    if module_name is None:
        return None
    cls: type[Connector] = importlib.import_module(module_name).connector_class
    return cls


def parse_settings(kind: str, raw: dict[str, Any]) -> ChannelSettings:
    """Validate a channel's stored settings against its kind's schema."""
    cls = connector_class(kind)
    if cls is None:
        raise SettingsError(f"channels of kind {kind!r} have no connector")
    try:
        return cls.settings_model.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(f"invalid {kind} settings: {validation_problems(exc)}") from None


def validation_problems(exc: ValidationError) -> str:
    """A settings validation error in one line: each field and what is wrong with it."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'settings'} {e['msg']}"
        for e in exc.errors(include_url=False, include_input=False)
    )


def build_connector(
    kind: str, raw_settings: dict[str, Any], *, policy: HttpPolicy | None = None
) -> Connector:
    """A ready connector for the kind and settings, calling out through the given policy."""
    settings = parse_settings(kind, raw_settings)
    cls = connector_class(kind)
    assert cls is not None
    return cls(settings, policy or HttpPolicy())
