"""The outbox sends each reply once through real SMTP, retries with backoff, keeps dead letters."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from earful.channels.services import create_channel
from earful.conversations.models import Conversation
from earful.errors import DomainError
from earful.inbox.models import OutboxItem, OutboxStatus
from earful.inbox.outbox import MAX_ATTEMPTS, backoff, deliver, deliver_due
from earful.inbox.replies import send_reply_to_customer
from earful.org.models import Event
from tests.inbox.conftest import NOW, complain


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Collecting:
    """An SMTP handler that keeps what it was sent."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[tuple[int, Collecting]]:
    settings.EARFUL_HTTP_ALLOW_LOOPBACK = True
    handler = Collecting()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, handler
    controller.stop()


def mailbox(org: Any, smtp_port: int) -> Any:
    return create_channel(
        org,
        name="Support mail",
        kind="email",
        settings={
            "address": "support@acme.example",
            "imap_host": "127.0.0.1",
            "imap_security": "none",
            "username": "support@acme.example",
            "password": "pw",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_security": "none",
        },
    )


def email_complaint(org: Any, port: int) -> Conversation:
    return complain(mailbox(org, port), "<m1@cust.example>", "Bill is wrong", "sam@cust.example")


def test_a_reply_is_sent_once_by_smtp_even_when_delivered_twice(
    org: Any, owner: Any, smtp: tuple[int, Collecting]
) -> None:
    conversation = email_complaint(org, smtp[0])
    message = send_reply_to_customer(conversation, "We fixed the bill.", by=owner, now=NOW)
    item = OutboxItem.objects.get(message=message)

    assert deliver(item.pk, NOW) is not None
    assert deliver(item.pk, NOW) is None
    assert deliver_due(NOW + timedelta(hours=1)) == 0

    item.refresh_from_db()
    assert item.status == OutboxStatus.SENT and item.attempts == 1 and item.provider_id
    assert len(smtp[1].received) == 1
    assert b"We fixed the bill." in smtp[1].received[0]
    message.refresh_from_db()
    assert message.external_id == item.provider_id


def test_a_failed_send_is_retried_with_backoff_then_kept_dead(
    org: Any, owner: Any, settings: Any
) -> None:
    settings.EARFUL_HTTP_ALLOW_LOOPBACK = True
    conversation = email_complaint(org, free_port())  # nothing listens there
    message = send_reply_to_customer(conversation, "Hello", by=owner, now=NOW)
    item = OutboxItem.objects.get(message=message)

    deliver(item.pk, NOW)
    item.refresh_from_db()
    assert item.status == OutboxStatus.PENDING and item.last_error
    assert item.next_attempt_at == NOW + backoff(1)
    assert deliver(item.pk, NOW) is None  # not due yet

    at = NOW
    for _ in range(MAX_ATTEMPTS):
        at += timedelta(days=1)
        deliver_due(at)
    item.refresh_from_db()
    assert item.status == OutboxStatus.DEAD and item.attempts == MAX_ATTEMPTS
    assert Event.objects.filter(verb="outbox.dead").count() == 1


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(50) == timedelta(hours=6)


def test_a_dead_letter_is_shown_and_retried_over_the_api(
    org: Any, owner: Any, settings: Any, client: Any
) -> None:
    settings.EARFUL_HTTP_ALLOW_LOOPBACK = True
    conversation = email_complaint(org, free_port())
    message = send_reply_to_customer(conversation, "Hello", by=owner, now=NOW)
    OutboxItem.objects.filter(message=message).update(status=OutboxStatus.DEAD, attempts=6)
    client.force_login(owner)
    base = f"/api/v1/orgs/acme/messages/{message.code}"

    (dead,) = client.get(f"{base}/delivery").json()
    retried = client.post(f"{base}/retry").json()

    assert dead["status"] == "dead"
    assert retried["status"] == "pending" and retried["attempts"] == 0
    assert Event.objects.filter(verb="outbox.retried").count() == 1


def test_a_public_complaint_is_answered_privately_by_email(
    org: Any,
    channel: Any,
    owner: Any,
    smtp: tuple[int, Collecting],
    client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mailbox(org, smtp[0])
    conversation = complain(
        channel,
        "pub1",
        "Your airline lost my bag!!",
        "tw-1",
        email="sam@cust.example",
    )
    client.force_login(owner)
    page = client.get(f"/o/acme/c/{conversation.number}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/o/acme/c/{conversation.number}/reply/",
            {"parent": "email:sam@cust.example", "text": "Sorry! Can you send your tag number?"},
        )
    refused = send_reply_via_unknown_address(conversation, owner)

    assert "Privately by email to sam@cust.example" in page
    (sent,) = smtp[1].received
    assert b"To: sam@cust.example" in sent and b"Sorry! Can you send your tag number?" in sent
    item = OutboxItem.objects.get()
    assert item.status == OutboxStatus.SENT and item.message.visibility == "private"
    assert "known by" in refused


def send_reply_via_unknown_address(conversation: Conversation, owner: Any) -> str:
    try:
        send_reply_to_customer(conversation, "Hi", by=owner, now=NOW, email_to="x@evil.example")
    except DomainError as exc:
        return str(exc)
    return ""
