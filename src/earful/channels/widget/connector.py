"""The web feedback widget: a hosted page and an embeddable form where customers write in.

Submissions arrive by POST (see `widget/receiver.py`); there is nothing to poll. Answers go
back by email when the customer left an address (the record keeps it as `reply_to`), through
the organization's email channel.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from earful.channels.connector import (
    ChannelSettings,
    ConnectorError,
    OutgoingReply,
    PushConnector,
)

ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")


class WidgetSettings(ChannelSettings):
    """What the form says, which sites may embed it, and how many submissions a minute."""

    title: str = Field(default="Tell us what you think", max_length=100)
    prompt: str = Field(default="What would you like us to know?", max_length=300)
    ask_email: bool = True
    embed_origins: list[str] = Field(default_factory=list, max_length=20)
    max_per_minute: int = Field(default=20, ge=1, le=1000)

    @field_validator("embed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin[:80]!r} is not an origin like https://www.example.com")
        return value


class WidgetConnector(PushConnector):
    """A push source: nothing is sent through the widget itself."""

    kind = "widget"
    settings_model = WidgetSettings
    settings: WidgetSettings

    def send(self, reply: OutgoingReply) -> str:
        """The widget cannot carry an answer; it goes by email to the address left."""
        where = reply.context.get("reply_to") or "no address"
        raise ConnectorError(f"answer widget messages through the email channel ({where})")

    def check(self) -> str:
        """Say how the widget is set up."""
        sites = ", ".join(self.settings.embed_origins) or "any site"
        return f"feedback widget ready; embeddable on {sites}"


connector_class = WidgetConnector
