"""Blocking at the door: blocked identities and patterns are dropped, mutes expire."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from earful.channels.blocking import add_block_rule, drop_blocked, may_send_to, remove_block_rule
from earful.org.models import Event
from tests.helpers import numbered, record


def spam(external_id: str, author: str = "cust-1", text: str = "hello") -> dict[str, Any]:
    return record(external_id, text, author={"external_id": author, "handle": author.upper()})


def test_it_drops_a_blocked_identity_by_id_or_handle(org: Any, channel: Any) -> None:
    add_block_rule(org, identity="@TROLL", reason="abuse")
    items = numbered([spam("1"), spam("2", "troll"), spam("3", "cust-2")])

    kept, dropped = drop_blocked(channel, items)

    assert [n for n, _ in kept] == [1, 3]
    assert [(d.record_number, d.rule) for d in dropped] == [(2, "identity troll")]
    assert Event.objects.filter(verb="block_rule.created").count() == 1


def test_it_drops_text_matching_a_pattern(org: Any, channel: Any) -> None:
    add_block_rule(org, pattern="cheap * pills")
    items = numbered([spam("1", text="Buy CHEAP blue pills now"), spam("2", text="pills?")])

    kept, dropped = drop_blocked(channel, items)

    assert [n for n, _ in kept] == [2]
    assert dropped[0].rule == "pattern cheap * pills"


def test_a_mute_ends_on_its_date(org: Any, channel: Any) -> None:
    add_block_rule(org, identity="cust-1", until=timezone.now() - timedelta(minutes=1))

    kept, dropped = drop_blocked(channel, numbered([spam("1")]))

    assert (len(kept), dropped) == (1, [])


def test_a_rule_for_another_platform_or_organization_does_not_apply(
    org: Any, other_org: Any, channel: Any
) -> None:
    add_block_rule(org, identity="cust-1", platform="mastodon")
    add_block_rule(other_org, identity="cust-1")

    kept, _ = drop_blocked(channel, numbered([spam("1")]))

    assert len(kept) == 1


def test_nothing_automated_is_sent_to_a_blocked_identity(org: Any, channel: Any) -> None:
    rule = add_block_rule(org, identity="troll")

    assert not may_send_to(channel, "troll")
    assert may_send_to(channel, "cust-2")
    remove_block_rule(rule)
    assert may_send_to(channel, "troll")


@pytest.mark.parametrize(("identity", "pattern"), [("", ""), ("", "**")])
def test_it_refuses_a_rule_that_names_nothing(org: Any, identity: str, pattern: str) -> None:
    with pytest.raises(ValueError, match="block"):
        add_block_rule(org, identity=identity, pattern=pattern)


def test_a_blocked_author_is_not_stored_when_a_connector_delivers(org: Any) -> None:
    import time

    from django.test import Client

    from earful.channels.models import RawMessage
    from earful.channels.services import create_channel
    from earful.channels.webhook.connector import sign
    from tests.channels.fakes import fixture_text

    secret = "k" * 40
    hook = create_channel(org, name="Hook", kind="webhook", settings={"secret": secret})
    add_block_rule(org, identity="cust-5521", reason="abuse")
    body = fixture_text("webhook", "delivery.json").encode()
    ts = str(int(time.time()))

    response = Client().post(
        f"/in/webhook/{hook.code}/",
        data=body,
        content_type="application/json",
        headers={"X-Earful-Timestamp": ts, "X-Earful-Signature": sign(secret, ts, body)},
    )

    assert (response.json()["stored"], response.json()["blocked"]) == (0, 2)
    assert not RawMessage.objects.filter(channel=hook).exists()


def test_a_pattern_matches_in_linear_time_on_hostile_text(org: Any, channel: Any) -> None:
    add_block_rule(org, pattern="a*a*a*a*a*x", reason="spam")
    hostile = "a" * 100_000

    kept, dropped = drop_blocked(channel, [(1, {"external_id": "1", "text": hostile})])

    assert (len(kept), dropped) == (1, [])
