"""IT answers in Slack: slack-sdk against a loopback server speaking Slack's Web API, and
Slack's signed interactivity and Events API requests posted to earful."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from earful.conversations.models import HandoffStatus, Note
from earful.inbox import handoffs, tickets
from earful.inbox.destinations import AuthError, ConnectorError, Notice, build_destination
from earful.inbox.models import (
    Destination,
    ExternalTicket,
    Redaction,
    TicketState,
    TrackerDelivery,
)
from earful.org.models import Department, Event
from tests.channels.fakes import FakeServer
from tests.inbox.conftest import complain
from tests.inbox.destinations.fake_slack import (
    CHANNEL,
    SIGNING_SECRET,
    TOKEN,
    FakeSlack,
    fixture,
    signed_action,
    signed_event,
)
from tests.inbox.destinations.roundtrip import (
    NOW,
    hand_to_it,
    report_back_on_x,
    tweeting_customer,
)

HOSTILE = (
    "<!channel> wake up <@U0BOSS001> & see <http://evil.example|your invoice> "
    "@here write to dana@example.com"
)
TS = "1762077600.000100"


@pytest.fixture
def slack(fake: FakeServer) -> FakeSlack:
    return FakeSlack(fake)


def slack_settings(fake: FakeServer, **extra: Any) -> dict[str, Any]:
    return {
        "bot_token": TOKEN,
        "channel": CHANNEL,
        "signing_secret": SIGNING_SECRET,
        "base_url": f"{fake.url}/api/",
        **extra,
    }


@pytest.fixture
def it_slack(org: Any, owner: Any, fake: FakeServer) -> Destination:
    it = Department.objects.get(organization=org, slug="it")
    return tickets.add_destination(it, "slack", slack_settings(fake), by=owner)


def hook(destination: Destination) -> str:
    return f"/hooks/destinations/{destination.code}/"


def text_of(blocks: list[dict[str, Any]]) -> str:
    """Every mrkdwn or plain text in a message's blocks, joined."""
    found = []
    for block in blocks:
        for item in [block.get("text"), *block.get("elements", [])]:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                found.append(item["text"])
    return "\n".join(found)


def test_check_names_the_channel_and_refuses_a_bad_token_or_channel(
    fake: FakeServer, slack: FakeSlack
) -> None:
    assert build_destination("slack", slack_settings(fake)).check() == (
        "can post in #it-help as earful in Acme Air"
    )
    with pytest.raises(AuthError, match=r"refused the token \(invalid_auth\)"):
        build_destination("slack", slack_settings(fake, bot_token="xoxb-revoked")).check()
    with pytest.raises(ConnectorError, match="channel_not_found"):
        build_destination("slack", slack_settings(fake, channel="C0NOWHERE1")).check()


def test_bad_settings_are_refused_before_anything_is_stored(org: Any, owner: Any) -> None:
    it = Department.objects.get(organization=org, slug="it")
    with pytest.raises(Exception, match="invalid slack settings"):
        tickets.add_destination(
            it,
            "slack",
            {"bot_token": "not-a-token", "channel": "#it", "signing_secret": "short"},
            by=owner,
        )
    assert not Destination.objects.exists()


def test_a_hand_off_posts_a_message_with_buttons_and_the_customer_inert(
    channel: Any,
    owner: Any,
    client: Client,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = complain(channel, "c1", HOSTILE)

    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)

    [message] = slack.posted
    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert (ticket.state, ticket.external_id, ticket.url) == (
        TicketState.OPEN,
        f"{CHANNEL}:{TS}",
        f"https://acme-air.slack.com/archives/{CHANNEL}/p1762077600000100",
    )
    text = text_of(message["blocks"])
    # Slack's control characters are escaped: no @channel, mention or link of theirs is live.
    assert (
        ">&lt;!channel&gt; wake up &lt;[handle]&gt; &amp; see &lt;http://evil.example|your"
        " invoice&gt; [handle] write to [email]"
    ) in text
    assert "<!" not in text and "<@" not in text and "<http://evil" not in text
    assert all(block.get("text", {}).get("verbatim", True) for block in message["blocks"])
    assert message["link_names"] is False and message["unfurl_links"] is False
    # Contact details stay at home under the default redaction.
    assert "dana@example.com" not in text and "[email]" in text
    assert "Crash on opening bookings since 4.2?" in text and "Sam Reed" in text
    assert f"/o/acme/c/{conversation.number}/|Open the conversation in earful>" in text
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        "earful_state:acknowledged",
        "earful_state:in_progress",
        "earful_state:fixed",
        "earful_state:wont_fix",
    ]
    assert [e["text"]["text"] for e in actions["elements"]] == [
        "Acknowledge",
        "In progress",
        "Fixed",
        "Won't fix",
    ]
    client.force_login(owner)
    page = client.get(f"/o/acme/c/{conversation.number}/").content.decode()
    assert f'href="https://acme-air.slack.com/archives/{CHANNEL}/p1762077600000100"' in page


def test_anonymous_redaction_leaves_out_the_name_too(
    channel: Any,
    owner: Any,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    it_slack.redaction = Redaction.ANONYMOUS
    it_slack.save()
    hand_to_it(complain(channel, "c1", HOSTILE), owner, django_capture_on_commit_callbacks)

    text = text_of(slack.posted[0]["blocks"])
    assert "Sam Reed" not in text and "from a customer" in text


def test_buttons_move_the_hand_off_and_thread_replies_become_notes(
    channel: Any,
    owner: Any,
    client: Client,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = complain(channel, "c1", "The app crashes when I open my bookings")
    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)
    now = int(time.time())

    press = slack.press(TS, "acknowledged")
    acknowledged = client.post(hook(it_slack), **signed_action(press, now))
    reply = client.post(
        hook(it_slack), **signed_event(slack.reply(TS, "Found it &amp; fixing &lt;now&gt;"), now)
    )
    ours = client.post(hook(it_slack), **signed_event(fixture("event_bot_message.json"), now))
    fixed = client.post(hook(it_slack), **signed_action(slack.press(TS, "fixed"), now))

    assert [r.json() for r in (acknowledged, reply, ours, fixed)] == [
        {"applied": 1},
        {"applied": 1},
        {"applied": 0},
        {"applied": 1},
    ]
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.FIXED
    assert handoff.answer == f"Closed in Slack {CHANNEL}:{TS}"
    # Earful's own messages in the thread are not the department speaking.
    note = Note.objects.get(conversation=conversation)
    assert note.text == f"U0IVY0001 on Slack {CHANNEL}:{TS}: Found it & fixing <now>"
    verbs = [
        v
        for v in Event.objects.order_by("pk").values_list("verb", flat=True)
        if v.startswith("handoff.")
    ]
    assert verbs[-2:] == ["handoff.acknowledged", "handoff.fixed"]
    assert (Event.objects.get(verb="handoff.acknowledged").after or {})["by"] == "ivy"


def test_wont_fix_button_closes_it_with_its_own_draft(
    channel: Any,
    owner: Any,
    client: Client,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "Please add dark mode"), owner, django_capture_on_commit_callbacks
    )

    client.post(hook(it_slack), **signed_action(slack.press(TS, "wont_fix"), int(time.time())))

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.WONT_FIX
    assert "will not be changing it" in handoffs.report_back_draft(handoff)


def test_url_verification_is_answered_with_its_challenge(
    client: Client, it_slack: Destination
) -> None:
    challenge = fixture("url_verification.json")

    answered = client.post(hook(it_slack), **signed_event(challenge, int(time.time())))
    unsigned = client.post(hook(it_slack), data=challenge, content_type="application/json")

    assert answered.status_code == 200
    assert json.loads(answered.content) == {"challenge": challenge["challenge"]}
    assert unsigned.status_code == 401
    assert Event.objects.filter(verb="destination.webhook_rejected").count() == 1


def test_forged_stale_and_replayed_requests_are_rejected_and_logged(
    channel: Any,
    owner: Any,
    client: Client,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    press = slack.press(TS, "fixed")
    now = int(time.time())

    forged = client.post(hook(it_slack), **signed_action(press, now, secret="x" * 32))
    stale = client.post(hook(it_slack), **signed_action(press, now - 600))
    unsigned = client.post(
        hook(it_slack),
        data=urlencode({"payload": json.dumps(press)}),
        content_type="application/x-www-form-urlencoded",
    )
    first = client.post(hook(it_slack), **signed_action(press, now))
    replayed = client.post(hook(it_slack), **signed_action(press, now))
    # Slack retries an event with a new signature and the same event_id: one delivery.
    reply = slack.reply(TS, "On it")
    client.post(hook(it_slack), **signed_event(reply, now))
    retried = client.post(hook(it_slack), **signed_event(reply, now + 1))

    codes = [r.status_code for r in (forged, stale, unsigned, first, replayed, retried)]
    assert codes == [401, 401, 401, 200, 401, 401]
    rejected = Event.objects.filter(verb="destination.webhook_rejected").order_by("pk")
    assert [(e.after or {})["reason"] for e in rejected] == [
        "the X-Slack-Signature signature does not match",
        "the Slack request is older than five minutes",
        "the request carries no Slack signature",
        "a replay of a delivery",
        "a replay of a delivery",
    ]
    assert TrackerDelivery.objects.count() == 2
    assert Event.objects.filter(verb="handoff.fixed").count() == 1
    assert Note.objects.filter(conversation=handoff.conversation).count() == 1


def test_other_channels_threads_and_unknown_payloads_change_nothing(
    channel: Any,
    owner: Any,
    client: Client,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    now = int(time.time())
    elsewhere = slack.press(TS, "fixed")
    elsewhere["channel"]["id"] = "C0RANDOM01"
    top_level = slack.reply(TS, "Lunch?", event_id="Ev0TOP")
    top_level["event"]["thread_ts"] = top_level["event"]["ts"]
    other_thread = slack.reply("1762000000.000001", "Unrelated", event_id="Ev0OTHER")

    answers = [
        client.post(hook(it_slack), **signed_action(elsewhere, now)).json(),
        client.post(hook(it_slack), **signed_event(top_level, now)).json(),
        client.post(hook(it_slack), **signed_event(other_thread, now)).json(),
    ]
    bad = client.post(hook(it_slack), **signed_event({"type": "event_callback"}, now))

    assert answers == [{"applied": 0}] * 3
    assert bad.status_code == 400
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.OPEN
    assert not Note.objects.exists()


def test_slack_down_delays_the_message_with_backoff_and_loses_nothing(
    channel: Any,
    owner: Any,
    client: Client,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    slack.mode = "down"
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )

    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert ticket.state == TicketState.PENDING and ticket.attempts == 1
    assert ticket.last_error == "Slack answered 503"
    assert ticket.next_attempt_at == NOW + timedelta(seconds=30)
    assert tickets.open_due_tickets(NOW + timedelta(seconds=10)) == 0
    assert tickets.open_due_tickets(NOW + timedelta(seconds=31)) == 0
    ticket.refresh_from_db()
    assert ticket.attempts == 2 and ticket.next_attempt_at == NOW + timedelta(seconds=91)
    slack.mode = ""
    assert tickets.open_due_tickets(NOW + timedelta(minutes=2)) == 1

    ticket.refresh_from_db()
    assert (ticket.state, ticket.external_id) == (TicketState.OPEN, f"{CHANNEL}:{TS}")
    assert len(slack.posted) == 1
    assert Event.objects.filter(verb="handoff.ticket_failed").count() == 2


def test_a_rate_limited_or_refused_slack_is_retried_with_the_reason_shown(
    channel: Any,
    owner: Any,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    slack.mode = "limited"
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert ticket.state == TicketState.PENDING
    assert ticket.last_error == "Slack rate limited earful; retry after 30 s"

    it_slack.settings = {**it_slack.settings, "bot_token": "xoxb-revoked"}
    it_slack.save()
    slack.mode = ""
    assert tickets.open_due_tickets(NOW + timedelta(minutes=1)) == 0
    ticket.refresh_from_db()
    assert ticket.last_error == "Slack refused the token (invalid_auth)"
    assert tickets.check_destination(it_slack, NOW, by=owner).startswith("Slack refused")


def test_a_notice_is_posted_escaped(fake: FakeServer, slack: FakeSlack) -> None:
    destination = build_destination("slack", slack_settings(fake))

    destination.notify(Notice("Urgent: #CASE-7 <b>", "Waiting 5 min & counting", "https://e/x"))

    [posted] = slack.posted
    assert posted["text"] == "Urgent: #CASE-7 &lt;b&gt;"
    assert text_of(posted["blocks"]) == (
        "*Urgent: #CASE-7 &lt;b&gt;*\nWaiting 5 min &amp; counting\n<https://e/x|Open in earful>"
    )


def test_the_round_trip_from_a_tweet_to_slack_and_back_to_the_customer(
    org: Any,
    owner: Any,
    client: Client,
    fake: FakeServer,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation, tweets = tweeting_customer(org, fake)

    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)
    text = text_of(slack.posted[0]["blocks"])
    assert "your app crashes every time" in text and "product_bug" in text
    client.post(hook(it_slack), **signed_action(slack.press(TS, "fixed"), int(time.time())))
    handoff.refresh_from_db()
    report_back_on_x(org, owner, client, handoff, tweets, django_capture_on_commit_callbacks)
