"""IT answers in Matrix: matrix-nio against a real Synapse on loopback (tests/inbox/destinations/
synapse.py), the engineer speaking through the client-server API as any Matrix client does."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from nio import AsyncClient, RoomGetEventResponse

from earful.channels.http import HttpPolicy
from earful.conversations.models import HandoffStatus, Note
from earful.inbox import handoffs, tickets
from earful.inbox.destinations import AuthError, ConnectorError, Notice, build_destination, matrix
from earful.inbox.models import (
    Destination,
    ExternalTicket,
    Redaction,
    TicketState,
)
from earful.inbox.tick import tick
from earful.org.models import Department, Event
from tests.channels.fakes import FakeServer
from tests.inbox.conftest import complain
from tests.inbox.destinations.roundtrip import (
    NOW,
    hand_to_it,
    report_back_on_x,
    tweeting_customer,
)
from tests.inbox.destinations.synapse import Account, Synapse, started

HOSTILE = (
    '@room <a href="https://matrix.to/#/@boss:localhost">boss</a> <b>pay</b> & '
    "write to dana@example.com"
)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """One Synapse for the module's tests (about two seconds to start)."""
    server = started(Path(tmp_path_factory.mktemp("synapse")))
    yield server
    server.stop()


@dataclass(frozen=True)
class Room:
    """A fresh room with the bot and the engineer in it, on the running Synapse."""

    synapse: Synapse
    room_id: str
    bot: Account
    engineer: Account

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {
            "homeserver": self.synapse.url,
            "user_id": self.bot.user_id,
            "access_token": self.bot.access_token,
            "room_id": self.room_id,
            **extra,
        }

    def say(self, account: Account, content: dict[str, Any]) -> str:
        """Send a message as the account; its event id."""
        path = f"/rooms/{quote(self.room_id)}/send/m.room.message/{secrets.token_hex(8)}"
        event_id: str = self.synapse.call(account, "PUT", path, content)["event_id"]
        return event_id

    def in_thread(self, account: Account, root: str, text: str) -> str:
        """A reply in the root's thread, as Element sends one."""
        relation = {
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": root},
        }
        return self.say(account, {"msgtype": "m.text", "body": text, "m.relates_to": relation})

    def reply_to(self, account: Account, event_id: str, text: str) -> str:
        """A plain reply to an event, with the quoted fallback older clients put first."""
        fallback = f"> <{self.bot.user_id}> the hand-off\n\n{text}"
        relation = {"m.in_reply_to": {"event_id": event_id}}
        return self.say(account, {"msgtype": "m.text", "body": fallback, "m.relates_to": relation})

    def posted_by_bot(self) -> list[dict[str, Any]]:
        """The bot's messages in the room, oldest first, read as the engineer."""
        path = f"/rooms/{quote(self.room_id)}/messages?dir=b&limit=100"
        chunk = self.synapse.call(self.engineer, "GET", path)["chunk"]
        return [
            e
            for e in reversed(chunk)
            if e["type"] == "m.room.message" and e["sender"] == self.bot.user_id
        ]


@pytest.fixture(scope="session")
def accounts(synapse: Synapse) -> tuple[Account, Account]:
    return synapse.register("earful"), synapse.register("ivy")


@pytest.fixture
def room(synapse: Synapse, accounts: tuple[Account, Account], loopback: None) -> Room:
    bot, engineer = accounts
    return Room(synapse, synapse.room(bot, engineer), bot, engineer)


@pytest.fixture
def it_matrix(org: Any, owner: Any, room: Room) -> Destination:
    it = Department.objects.get(organization=org, slug="it")
    return tickets.add_destination(it, "matrix", room.settings(), by=owner)


def read_as(room: Room, account: Account, event_id: str) -> dict[str, Any]:
    """An event as another Matrix client (matrix-nio, logged in as the account) sees it."""

    async def fetch() -> dict[str, Any]:
        client = AsyncClient(room.synapse.url, account.user_id)
        client.access_token = account.access_token
        try:
            answer = await client.room_get_event(room.room_id, event_id)
        finally:
            await client.close()
        assert isinstance(answer, RoomGetEventResponse), answer
        source: dict[str, Any] = answer.event.source
        return source

    return asyncio.run(fetch())


def test_check_names_the_room_and_refuses_a_bad_token_or_a_room_it_is_not_in(
    room: Room, synapse: Synapse, accounts: tuple[Account, Account]
) -> None:
    answer = build_destination("matrix", room.settings()).check()
    assert answer == f"can post in {room.room_id} as @earful:localhost (2 members)"

    with pytest.raises(AuthError, match=r"refused the token \(M_UNKNOWN_TOKEN\)"):
        build_destination("matrix", room.settings(access_token="syt_revoked")).check()
    elsewhere = synapse.room(accounts[1])
    with pytest.raises(ConnectorError, match="invite @earful:localhost to"):
        build_destination("matrix", room.settings(room_id=elsewhere)).check()
    with pytest.raises(ConnectorError, match="the token is @earful:localhost's, not @ivy"):
        build_destination("matrix", room.settings(user_id="@ivy:localhost")).check()


def test_check_refuses_an_encrypted_room(room: Room, synapse: Synapse) -> None:
    encryption = {
        "type": "m.room.encryption",
        "state_key": "",
        "content": {"algorithm": "m.megolm.v1.aes-sha2"},
    }
    encrypted = synapse.call(
        room.bot, "POST", "/createRoom", {"preset": "private_chat", "initial_state": [encryption]}
    )["room_id"]

    with pytest.raises(ConnectorError, match="end-to-end encrypted"):
        build_destination("matrix", room.settings(room_id=encrypted)).check()


def test_a_hand_off_posts_to_the_room_with_the_customer_inert(
    channel: Any,
    owner: Any,
    room: Room,
    it_matrix: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = complain(channel, "c1", HOSTILE)

    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)

    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert ticket.state == TicketState.OPEN and ticket.external_id.startswith("$")
    assert ticket.url == (
        f"https://matrix.to/#/{quote(room.room_id, safe='')}/"
        f"{quote(ticket.external_id, safe='')}?via=localhost"
    )
    event = read_as(room, room.engineer, ticket.external_id)
    assert event["sender"] == "@earful:localhost"
    content = event["content"]
    # Nobody is mentioned, so the customer's @room and user ids ping no one.
    assert content["m.mentions"] == {}
    formatted = content["formatted_body"]
    assert (
        "<pre><code>[handle] &lt;a href=&quot;https://matrix.to/#/[handle]:localhost&quot;&gt;"
        "boss&lt;/a&gt; &lt;b&gt;pay&lt;/b&gt; &amp; write to [email]</code></pre>"
    ) in formatted
    assert '<a href="https://matrix.to' not in formatted and "<b>" not in formatted
    # Contact details stay at home under the default redaction, in both forms.
    assert "dana@example.com" not in content["body"] + formatted
    assert "Crash on opening bookings since 4.2?" in content["body"]
    assert "from Sam Reed" in content["body"]
    assert f'<a href="http://127.0.0.1:8000/o/acme/c/{conversation.number}/">' in formatted


def test_shared_customer_details_are_there_and_still_inert(
    channel: Any,
    owner: Any,
    room: Room,
    it_matrix: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    it_matrix.redaction = Redaction.NONE
    it_matrix.save()
    handoff = hand_to_it(
        complain(channel, "c1", HOSTILE), owner, django_capture_on_commit_callbacks
    )

    [posted] = room.posted_by_bot()
    assert posted["event_id"] == ExternalTicket.objects.get(handoff=handoff).external_id
    content = posted["content"]
    assert "@room <a href=" in content["body"] and "dana@example.com" in content["body"]
    assert content["m.mentions"] == {}
    assert (
        "<pre><code>@room &lt;a href=&quot;https://matrix.to/#/@boss:localhost"
        in (content["formatted_body"])
    )


def test_thread_replies_become_notes_and_commands_move_the_hand_off(
    channel: Any,
    owner: Any,
    room: Room,
    it_matrix: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = complain(channel, "c1", "The app crashes when I open my bookings")
    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)
    root = ExternalTicket.objects.get(handoff=handoff).external_id
    other = room.say(room.engineer, {"msgtype": "m.text", "body": "Lunch?"})

    room.in_thread(room.engineer, root, "!ack")
    room.in_thread(room.engineer, root, "Looking at it <now> & then some")
    room.reply_to(room.engineer, root, "Reproduced on 4.2")
    room.in_thread(room.bot, root, "earful's own words")
    room.in_thread(room.engineer, other, "!fixed not this one")
    first = tick(NOW + timedelta(minutes=1))

    assert first.tracker_updates == 3
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ACKNOWLEDGED
    assert [n.text for n in Note.objects.filter(conversation=conversation).order_by("pk")] == [
        f"@ivy:localhost on Matrix {root}: Looking at it <now> & then some",
        f"@ivy:localhost on Matrix {root}: Reproduced on 4.2",
    ]

    room.in_thread(room.engineer, root, "!fixed Firmware 2.1")
    second = tick(NOW + timedelta(minutes=2))

    assert second.tracker_updates == 1
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.FIXED
    assert handoff.answer == "Firmware 2.1"
    verbs = [
        v
        for v in Event.objects.order_by("pk").values_list("verb", flat=True)
        if v.startswith("handoff.")
    ]
    assert verbs == [
        "handoff.requested",
        "handoff.ticket_opened",
        "handoff.acknowledged",
        "handoff.fixed",
    ]
    assert (Event.objects.get(verb="handoff.acknowledged").after or {})["by"] == "@ivy:localhost"
    # The cursor moved on: nothing is read twice.
    assert tick(NOW + timedelta(minutes=3)).tracker_updates == 0
    assert it_matrix.__class__.objects.get(pk=it_matrix.pk).cursor


def test_a_busy_room_is_read_back_to_the_cursor_page_by_page(
    channel: Any,
    owner: Any,
    room: Room,
    it_matrix: Destination,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Three messages a sync instead of a hundred, so a short test overflows the timeline.
    monkeypatch.setattr(matrix, "TIMELINE_LIMIT", 3)
    conversation = complain(channel, "c1", "It crashes")
    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)
    root = ExternalTicket.objects.get(handoff=handoff).external_id
    assert tick(NOW + timedelta(minutes=1)).tracker_updates == 0

    for n in range(1, 9):
        room.in_thread(room.engineer, root, f"step {n}")
    assert tick(NOW + timedelta(minutes=2)).tracker_updates == 8

    notes = Note.objects.filter(conversation=conversation).order_by("pk")
    assert [n.text.rsplit(": ", 1)[1] for n in notes] == [f"step {n}" for n in range(1, 9)]


def test_a_cursor_the_homeserver_refuses_starts_over_instead_of_stopping(
    channel: Any,
    owner: Any,
    room: Room,
    it_matrix: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    root = ExternalTicket.objects.get(handoff=handoff).external_id
    it_matrix.cursor = "not-a-stream-token"
    it_matrix.save()
    room.in_thread(room.engineer, root, "!fixed Firmware 2.1")

    assert tick(NOW + timedelta(minutes=1)).tracker_updates == 1

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.FIXED
    it_matrix.refresh_from_db()
    assert str(it_matrix.cursor).startswith("s")


def test_wont_fix_closes_it_with_its_own_draft(
    channel: Any,
    owner: Any,
    room: Room,
    it_matrix: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "Please add dark mode"), owner, django_capture_on_commit_callbacks
    )
    root = ExternalTicket.objects.get(handoff=handoff).external_id
    room.in_thread(room.engineer, root, "!WontFix Not on the roadmap")

    tick(NOW + timedelta(minutes=1))

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.WONT_FIX
    assert handoff.answer == "Not on the roadmap"
    assert "will not be changing it" in handoffs.report_back_draft(handoff)


def test_synapse_down_delays_the_message_with_backoff_and_loses_nothing(
    channel: Any,
    owner: Any,
    room: Room,
    synapse: Synapse,
    it_matrix: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    synapse.stop()
    try:
        handoff = hand_to_it(
            complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
        )
        ticket = ExternalTicket.objects.get(handoff=handoff)
        assert ticket.state == TicketState.PENDING and ticket.attempts == 1
        assert ticket.last_error == "Matrix could not be reached: ClientConnectorError"
        assert ticket.next_attempt_at == NOW + timedelta(seconds=30)
        assert tickets.open_due_tickets(NOW + timedelta(seconds=10)) == 0
        assert tickets.open_due_tickets(NOW + timedelta(seconds=31)) == 0
        ticket.refresh_from_db()
        assert ticket.attempts == 2 and ticket.next_attempt_at == NOW + timedelta(seconds=91)
    finally:
        synapse.start()

    assert tickets.open_due_tickets(NOW + timedelta(minutes=2)) == 1

    ticket.refresh_from_db()
    assert ticket.state == TicketState.OPEN
    [posted] = room.posted_by_bot()
    assert posted["event_id"] == ticket.external_id
    assert Event.objects.filter(verb="handoff.ticket_failed").count() == 2
    # Opening it again (a crashed claim retried) sends the same transaction: still one message.
    assert (
        build_destination("matrix", room.settings())
        .open_ticket(tickets.draft_for(ticket))
        .external_id
        == ticket.external_id
    )
    assert len(room.posted_by_bot()) == 1


def test_a_rate_limited_bot_is_retried_later_with_the_reason_shown(
    channel: Any,
    owner: Any,
    room: Room,
    fake: FakeServer,
    it_matrix: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Synapse's own limits are per second at best: a loopback server answers as it does
    # when one is reached, so the test does not depend on timing.
    limited = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 2500}
    fake.reply("PUT", "/_matrix/client/v3/rooms/.*/send/m.room.message/.*", 429, limited)
    it_matrix.settings = {**it_matrix.settings, "homeserver": fake.url}
    it_matrix.save()

    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )

    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert ticket.state == TicketState.PENDING and ticket.attempts == 1
    assert ticket.last_error == "Matrix rate limited earful; retry after 2 s"
    assert ticket.next_attempt_at == NOW + timedelta(seconds=30)
    # nio did not wait and try again by itself: one request, the ticket's backoff does the rest.
    assert len(fake.seen) == 1


def test_a_homeserver_that_never_answers_fails_the_call_instead_of_hanging(
    room: Room,
) -> None:
    # A socket that takes connections (the kernel's backlog) and never answers them.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        destination = build_destination(
            "matrix",
            room.settings(homeserver=f"http://127.0.0.1:{port}"),
            policy=HttpPolicy(timeout=0.5),
        )
        with pytest.raises(ConnectorError, match="could not be reached: TimeoutError"):
            destination.poll(["$event"], None)


def test_a_redirect_is_refused_not_followed(room: Room, fake: FakeServer) -> None:
    inside = "http://169.254.169.254/latest/meta-data/"
    fake.route(
        "GET", "/_matrix/client/v3/account/whoami", lambda _: (302, {"Location": inside}, {})
    )

    with pytest.raises(ConnectorError, match=r"redirect \(302\): give the address"):
        build_destination("matrix", room.settings(homeserver=fake.url)).check()

    assert [seen.path for seen in fake.seen] == ["/_matrix/client/v3/account/whoami"]


def test_a_notice_is_posted_escaped(room: Room) -> None:
    destination = build_destination("matrix", room.settings())

    destination.notify(Notice("Urgent: #CASE-7 <b>", "Waiting 5 min & counting", "https://e/x"))

    [posted] = room.posted_by_bot()
    content = posted["content"]
    assert content["msgtype"] == "m.notice" and content["m.mentions"] == {}
    assert content["body"] == "Urgent: #CASE-7 <b>\nWaiting 5 min & counting\nhttps://e/x"
    assert content["formatted_body"] == (
        "<p><strong>Urgent: #CASE-7 &lt;b&gt;</strong><br>Waiting 5 min &amp; counting</p>"
        '<p><a href="https://e/x">Open in earful</a></p>'
    )


def test_the_round_trip_from_a_tweet_to_matrix_and_back_to_the_customer(
    org: Any,
    owner: Any,
    client: Client,
    fake: FakeServer,
    room: Room,
    it_matrix: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation, tweets = tweeting_customer(org, fake)

    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)
    [posted] = room.posted_by_bot()
    assert "your app crashes every time" in posted["content"]["body"]
    assert "product_bug" in posted["content"]["body"]
    room.in_thread(room.engineer, posted["event_id"], "!fixed Fixed in 4.2.1, rolling out now")
    assert tick(NOW + timedelta(minutes=1)).tracker_updates == 1
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.FIXED
    report_back_on_x(org, owner, client, handoff, tweets, django_capture_on_commit_callbacks)
