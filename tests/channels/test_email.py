"""Email against real servers on loopback: dovecot (IMAP) in, aiosmtpd (SMTP) out."""

from __future__ import annotations

import email
import email.policy
import smtplib
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from earful.channels.connector import AuthError, OutgoingReply, build_connector
from earful.channels.email.connector import to_record
from earful.channels.http import RateLimitedError
from earful.channels.models import Channel
from earful.channels.outgoing import reply_for, send_reply
from earful.channels.scheduler import run_channel
from earful.channels.services import create_channel
from earful.conversations.models import Message
from tests.channels.fakes import FAST, fixture_bytes, fixture_text
from tests.channels.mailservers import Delivering, Dovecot, free_port, start_dovecot

SUPPORT = "support@acme.example"
LENA = "lena.kowalski@mail.example"


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    yield from start_dovecot()


@pytest.fixture
def dovecot(dovecot_server: Dovecot, loopback: None) -> Dovecot:
    dovecot_server.empty()
    return dovecot_server


@pytest.fixture
def smtp(dovecot: Dovecot) -> Iterator[tuple[int, Delivering]]:
    handler = Delivering(dovecot)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, handler
    controller.stop()


def settings_for(dovecot: Dovecot, smtp_port: int, password: str = "pw-support") -> dict[str, Any]:  # noqa: S107
    return {
        "address": SUPPORT,
        "display_name": "Acme Air Support",
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.port,
        "imap_security": "none",
        "username": SUPPORT,
        "password": password,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
    }


@pytest.fixture
def mailbox(org: Any, dovecot: Dovecot, smtp: tuple[int, Delivering]) -> Channel:
    return create_channel(
        org, name="Support mail", kind="email", settings=settings_for(dovecot, smtp[0])
    )


def eml(name: str) -> bytes:
    return fixture_text("email", name).replace("\n", "\r\n").encode()


def customer_sends(smtp_port: int, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_port) as client:
        client.sendmail(LENA, [SUPPORT], raw)


def test_round_trip_a_customer_email_is_answered_in_her_thread(
    mailbox: Channel, smtp: tuple[int, Delivering], dovecot: Dovecot
) -> None:
    customer_sends(smtp[0], eml("complaint.eml"))

    run = run_channel(mailbox, policy=FAST)

    assert (run.error, run.stored) == ("", 1)
    original = Message.objects.get(channel=mailbox)
    assert original.conversation is not None
    assert original.external_id == "CAF7h2x9Q@mail.example"
    assert "refund of €312" in original.text
    assert original.author_handle == LENA

    provider_id = send_reply(
        mailbox,
        reply_for(
            original, "We are sorry, Lena: the refund was issued today.", idempotency_key="o1"
        ),
    )

    [raw] = dovecot.messages(LENA)
    answer = email.message_from_bytes(raw, policy=email.policy.default)
    assert answer["In-Reply-To"] == "<CAF7h2x9Q@mail.example>"
    assert answer["References"] == "<CAF7h2x9Q@mail.example>"
    assert answer["Subject"] == "Re: Refund for cancelled flight AX204"
    assert answer["Message-ID"] == f"<{provider_id}>"
    assert "refund was issued today" in answer.get_content()


def test_a_follow_up_joins_the_conversation_and_resumes_from_the_cursor(
    mailbox: Channel, dovecot: Dovecot
) -> None:
    dovecot.deliver(SUPPORT, eml("complaint.eml"))
    run_channel(mailbox, policy=FAST)
    mailbox.refresh_from_db()
    first_uid = mailbox.cursor["last_uid"]

    dovecot.deliver(SUPPORT, eml("followup.eml"))
    run = run_channel(mailbox, policy=FAST)

    mailbox.refresh_from_db()
    assert (run.stored, run.duplicates) == (1, 0)
    assert mailbox.cursor["last_uid"] == first_uid + 1
    first, follow_up = Message.objects.filter(channel=mailbox).order_by("created_at")
    assert follow_up.text == "Any news? It has been six weeks now."
    assert follow_up.in_reply_to_external_id == first.external_id
    assert follow_up.conversation == first.conversation


def test_it_pages_through_a_full_mailbox(mailbox: Channel, dovecot: Dovecot) -> None:
    for n in range(5):
        raw = eml("complaint.eml").replace(b"CAF7h2x9Q", f"bulk-{n}".encode())
        dovecot.deliver(SUPPORT, raw)
    mailbox.settings["page_size"] = 2

    run = run_channel(mailbox, policy=FAST)

    assert (run.pages, run.stored) == (3, 5)


def test_a_reply_sent_twice_keeps_one_message_id(
    mailbox: Channel, smtp: tuple[int, Delivering]
) -> None:
    reply = OutgoingReply(text="hi", to=LENA, idempotency_key="outbox-9")
    connector = build_connector("email", mailbox.settings, policy=FAST)

    assert connector.send(reply) == connector.send(reply)


def test_it_reports_a_refused_login(
    org: Any, dovecot: Dovecot, smtp: tuple[int, Delivering]
) -> None:
    channel = create_channel(
        org, name="Old password", kind="email", settings=settings_for(dovecot, smtp[0], "expired")
    )

    run_channel(channel, policy=FAST)

    channel.refresh_from_db()
    assert channel.last_error.startswith("credentials refused: the IMAP server refused the login")
    with pytest.raises(AuthError):
        build_connector("email", channel.settings, policy=FAST).check()


def test_a_try_later_answer_pauses_sending(mailbox: Channel, smtp: tuple[int, Delivering]) -> None:
    smtp[1].refusal = "421 4.7.0 Too many messages, try again later"

    with pytest.raises(RateLimitedError, match="try again later"):
        send_reply(mailbox, OutgoingReply(text="hi", to=LENA))


def test_a_malformed_message_is_read_without_breaking_the_batch(
    mailbox: Channel, dovecot: Dovecot
) -> None:
    dovecot.deliver(SUPPORT, fixture_bytes("email", "malformed.eml"))
    dovecot.deliver(SUPPORT, eml("complaint.eml"))

    run = run_channel(mailbox, policy=FAST)

    assert run.error == ""
    assert Message.objects.filter(external_id="CAF7h2x9Q@mail.example").exists()


def test_it_never_puts_a_line_break_from_a_subject_into_a_header() -> None:
    raw = eml("complaint.eml").replace(
        b"Subject: Refund", b"Subject: =?utf-8?q?x=0D=0ABcc:_victim@evil.example?= Refund"
    )
    record = to_record(raw, "uid-1")
    assert record is not None
    assert "\n" not in record["source"]["subject"]


def test_check_says_what_the_folder_holds(mailbox: Channel, dovecot: Dovecot) -> None:
    dovecot.deliver(SUPPORT, eml("complaint.eml"))

    message = build_connector("email", mailbox.settings, policy=FAST).check()

    assert message == f"IMAP login as {SUPPORT} works; INBOX holds 1"
