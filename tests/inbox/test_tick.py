"""The inbox tick, on its own thread, delivers replies that wait in the outbox."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from earful.inbox.models import OutboxItem, OutboxStatus
from earful.inbox.replies import send_reply_to_customer
from earful.inbox.tick import start_ticking
from tests.inbox.conftest import NOW, complain
from tests.inbox.test_outbox import Collecting, free_port, mailbox


@pytest.mark.django_db(transaction=True)
def test_the_ticking_thread_delivers_a_waiting_reply(
    org: Any, owner: Any, settings: Any
) -> None:
    settings.EARFUL_HTTP_ALLOW_LOOPBACK = True
    port = free_port()
    conversation = complain(mailbox(org, port), "<m1@cust.example>", "Bill wrong", "s@c.example")
    message = send_reply_to_customer(conversation, "We fixed the bill.", by=owner, now=NOW)
    # The first attempt failed (nothing listened); its retry is due now.
    item = OutboxItem.objects.get(message=message)
    assert item.status == OutboxStatus.PENDING and item.last_error
    OutboxItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
    handler = Collecting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ticking = start_ticking()
    try:
        deadline = time.monotonic() + 30
        while not handler.received and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        # Joins the thread: its tick has finished (and its connection is closed) after this.
        ticking.stop()
        controller.stop()

    assert len(handler.received) == 1
    assert OutboxItem.objects.get(message=message).status == OutboxStatus.SENT
