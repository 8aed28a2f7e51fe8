"""A department's Teams channel hears of hand-offs through its incoming webhook (notify only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from earful.conversations.models import HandoffStatus
from earful.inbox import tickets
from earful.inbox.destinations import AuthError, ConnectorError, Notice, build_destination
from earful.inbox.models import Destination, ExternalTicket, TicketState
from earful.org.models import Department, Event
from tests.channels.fakes import FakeServer
from tests.inbox.conftest import complain
from tests.inbox.destinations.fake_teams import FakeTeams
from tests.inbox.destinations.roundtrip import (
    NOW,
    hand_to_it,
)

HOSTILE = (
    "**Click** [here](http://evil.example) <at>General</at> ![x](http://evil.example/p.png) "
    "or mail dana@example.com"
)


@pytest.fixture
def teams(fake: FakeServer) -> FakeTeams:
    return FakeTeams(fake)


@pytest.fixture
def it_teams(org: Any, owner: Any, teams: FakeTeams) -> Destination:
    it = Department.objects.get(organization=org, slug="it")
    return tickets.add_destination(it, "teams", {"webhook_url": teams.url}, by=owner)


def runs(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every TextRun of a card's body."""
    return [i for b in card["body"] if b["type"] == "RichTextBlock" for i in b["inlines"]]


def test_check_posts_a_connected_card_and_says_why(teams: FakeTeams, it_teams: Any) -> None:
    answer = build_destination("teams", {"webhook_url": teams.url}).check()

    assert answer.startswith("posted an 'earful is connected' card")
    assert "can only be checked by posting" in answer
    [card] = teams.cards
    assert runs(card)[0]["text"].startswith("earful is connected")
    teams.mode = "gone"
    with pytest.raises(AuthError, match=r"refused the webhook address \(404\)"):
        build_destination("teams", {"webhook_url": teams.url}).check()


def test_bad_settings_are_refused(org: Any, owner: Any) -> None:
    it = Department.objects.get(organization=org, slug="it")
    with pytest.raises(Exception, match="invalid teams settings"):
        tickets.add_destination(it, "teams", {"webhook_url": "ftp://x y"}, by=owner)
    with pytest.raises(Exception, match="invalid teams settings"):
        tickets.add_destination(it, "teams", {"webhook_url": "https://x", "token": "t"}, by=owner)
    assert not Destination.objects.exists()


def test_a_hand_off_posts_a_card_with_the_customer_as_plain_text_runs(
    channel: Any,
    owner: Any,
    teams: FakeTeams,
    it_teams: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = complain(channel, "c1", HOSTILE)

    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)

    [card] = teams.cards
    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert ticket.state == TicketState.OPEN
    assert ticket.external_id == f"teams:{ticket.code.hex}" and ticket.url == ""
    assert card["type"] == "AdaptiveCard"
    texts = [run["text"] for run in runs(card)]
    assert texts[0] == f"[#CASE-{conversation.number}] Crash on opening bookings since 4.2?"
    # The customer's words are TextRuns, which Teams never reads as markdown or mentions.
    [quote] = [t for t in texts if "Click" in t]
    assert quote.startswith("**Click** [here](http://evil.example) <at>General</at>")
    assert "dana@example.com" not in quote and "[email]" in quote
    assert all(b["type"] != "TextBlock" or "Click" not in b["text"] for b in card["body"])
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open the conversation in earful",
            "url": f"http://127.0.0.1:8000/o/acme/c/{conversation.number}/",
        }
    ]
    # Nothing comes back from Teams: the hand-off waits on the department in earful.
    assert handoff.status == HandoffStatus.OPEN
    assert build_destination("teams", {"webhook_url": teams.url}).answers_back is False


def test_teams_down_or_rate_limited_delays_the_card_and_loses_nothing(
    channel: Any,
    owner: Any,
    teams: FakeTeams,
    it_teams: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    teams.mode = "limited"
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert ticket.state == TicketState.PENDING
    assert ticket.last_error == "Teams rate limited earful; retry after 45 s"

    teams.mode = "down"
    assert tickets.open_due_tickets(NOW + timedelta(seconds=31)) == 0
    ticket.refresh_from_db()
    assert ticket.last_error == "Teams answered 503: Service Unavailable"
    teams.mode = ""
    assert tickets.open_due_tickets(NOW + timedelta(minutes=5)) == 1
    assert len(teams.cards) == 1
    assert Event.objects.filter(verb="handoff.ticket_failed").count() == 2


def test_a_notice_is_a_card_and_a_bad_body_is_named(teams: FakeTeams) -> None:
    destination = build_destination("teams", {"webhook_url": teams.url})

    destination.notify(
        Notice("SLA breach on #CASE-4", "First response was due 10:00", "https://e/")
    )

    [card] = teams.cards
    assert [run["text"] for run in runs(card)] == [
        "SLA breach on #CASE-4",
        "First response was due 10:00",
    ]
    assert card["actions"][0]["url"] == "https://e/"
    teams.mode = "unreadable"
    with pytest.raises(ConnectorError, match="400: Bad payload received"):
        destination.notify(Notice("x", "y", "https://e/"))


def test_the_departments_page_shows_no_webhook_address_for_teams(
    owner: Any, client: Any, it_teams: Destination
) -> None:
    client.force_login(owner)
    page = client.get("/o/acme/departments/").content.decode()

    assert "none: Microsoft Teams only hears from earful" in page
    assert f"/hooks/destinations/{it_teams.code}/" not in page
