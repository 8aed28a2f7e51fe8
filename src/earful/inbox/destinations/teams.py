"""Microsoft Teams: a channel's incoming webhook gets a card per hand-off and notifications.

Notify only: an incoming webhook can post into the channel but Teams sends nothing back,
so the department answers in earful (or through another destination). Cards are Adaptive
Cards in the `message` envelope that both the classic incoming webhook and the Workflows
("Post to a channel when a webhook request is received") accept. Everything a customer or
an agent wrote goes in `TextRun`s, which Teams shows as they are: no markdown, link or
mention of theirs is live; only earful's own headings are markdown.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from pydantic import Field

from earful.channels.http import RateLimitedError, check_url, guarded_session, retry_after_seconds
from earful.inbox.destinations import (
    AuthError,
    ConnectorError,
    Destination,
    DestinationSettings,
    Notice,
    OpenedTicket,
    TicketDraft,
)

# The webhook is gone or its address wrong: only a new address helps.
GONE = frozenset({401, 403, 404, 410})


class TeamsSettings(DestinationSettings):
    """The channel's incoming webhook address (a credential: anyone holding it can post)."""

    webhook_url: str = Field(pattern=r"^https?://\S+$")


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": text, **style}


def _said(*inlines: dict[str, Any]) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(inlines)}


def card(body: list[dict[str, Any]], link: str = "", label: str = "") -> dict[str, Any]:
    """The webhook's body: one Adaptive Card, with a button that opens earful if linked."""
    actions = [{"type": "Action.OpenUrl", "title": label, "url": link}] if link else []
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                    "actions": actions,
                },
            }
        ],
    }


def ticket_card(draft: TicketDraft) -> dict[str, Any]:
    """A hand-off's card: title, question, who and labels, the customer's quotes."""
    body = [
        _said(_run(draft.title, weight="Bolder", size="Medium")),
        _said(_run(draft.question)),
        _said(_run(draft.about(), isSubtle=True)),
    ]
    for quote in draft.quotes:
        body.append(_said(_run(quote.heading, weight="Bolder")))
        body.append(_said(_run(quote.text, italic=True)))
    body.append(
        {
            "type": "TextBlock",
            "text": "Answer in earful: Teams webhooks cannot send anything back.",
            "isSubtle": True,
            "wrap": True,
        }
    )
    return card(body, draft.link, "Open the conversation in earful")


class TeamsDestination(Destination):
    """A Teams channel reached through its incoming webhook."""

    kind = "teams"
    settings_model = TeamsSettings
    settings: TeamsSettings
    answers_back = False

    def _post(self, body: dict[str, Any]) -> None:
        url = self.settings.webhook_url
        try:
            check_url(url)
            with guarded_session(self.policy) as session:
                response = session.post(url, json=body)
        except requests.RequestException as exc:
            raise ConnectorError(f"Teams could not be reached: {exc.__class__.__name__}") from None
        text = response.text.strip()[:200]
        status = response.status_code
        # The classic webhook once answered 200 with the error in the body; "1" is success.
        if status == 429 or (status == 200 and "HTTP error 429" in text):
            wait = retry_after_seconds(response.headers) or 60.0
            until = datetime.now(UTC) + timedelta(seconds=wait)
            raise RateLimitedError(until, f"Teams rate limited earful; retry after {int(wait)} s")
        if status in GONE:
            raise AuthError(f"Teams refused the webhook address ({status})")
        if status >= 300 or (status == 200 and text not in ("", "1")):
            raise ConnectorError(f"Teams answered {status}: {text}")

    def check(self) -> str:
        """Post a short card: an incoming webhook has nothing to read, so posting is the test."""
        self._post(
            card([_said(_run("earful is connected: hand-offs to this department appear here."))])
        )
        return (
            "posted an 'earful is connected' card (a Teams webhook can only be checked by "
            "posting to it)"
        )

    def open_ticket(self, draft: TicketDraft) -> OpenedTicket:
        """Post the hand-off's card; Teams returns no id, so the ticket's is earful's own."""
        self._post(ticket_card(draft))
        return OpenedTicket(f"teams:{draft.idempotency_key}", "")

    def notify(self, notice: Notice) -> None:
        """Post a notification card."""
        body = [_said(_run(notice.title, weight="Bolder")), _said(_run(notice.text))]
        self._post(card(body, notice.link, "Open in earful"))


destination_class = TeamsDestination
