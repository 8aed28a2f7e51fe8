"""People not in earful all day hear of urgent items, SLA breaches and @mentions in their
department's Slack or by email, within rate limits and outside quiet hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from earful.conversations.models import Conversation, Message
from earful.errors import DomainError
from earful.inbox import handoffs, notifications, sla, tickets
from earful.inbox.assignment import assign
from earful.inbox.models import (
    Destination,
    Notification,
    NotificationPolicy,
    NotificationStatus,
    Redaction,
)
from earful.inbox.tick import tick
from earful.inbox.workflow import add_note
from earful.org.models import Department, Event, Membership
from tests.channels.fakes import FakeServer
from tests.inbox.conftest import complain
from tests.inbox.destinations.fake_slack import CHANNEL, SIGNING_SECRET, TOKEN, FakeSlack
from tests.inbox.destinations.fake_teams import FakeTeams

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
WORDS = "My card was charged twice, call me at +1 555 123 4567"


@pytest.fixture
def fake(settings: Any) -> Iterator[FakeServer]:
    """A loopback Slack, which the outbound guard may reach here (tests only)."""
    settings.EARFUL_HTTP_ALLOW_LOOPBACK = True
    server = FakeServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def slack(fake: FakeServer) -> FakeSlack:
    return FakeSlack(fake)


@pytest.fixture
def it(org: Any) -> Department:
    return Department.objects.get(organization=org, slug="it")


@pytest.fixture
def it_slack(it: Department, owner: Any, fake: FakeServer, slack: FakeSlack) -> Destination:
    settings = {
        "bot_token": TOKEN,
        "channel": CHANNEL,
        "signing_secret": SIGNING_SECRET,
        "base_url": f"{fake.url}/api/",
    }
    return tickets.add_destination(it, "slack", settings, by=owner)


def notices(slack: FakeSlack) -> list[str]:
    """The notifications posted in the channel (not the hand-offs' own messages)."""
    return [p["text"] for p in slack.posted if not p["text"].startswith("[#")]


def posted_text(slack: FakeSlack) -> str:
    """Everything earful's notifications said in Slack."""
    return "\n".join(
        block["text"]["text"]
        for p in slack.posted
        if not p["text"].startswith("[#")
        for block in p["blocks"]
    )


def handed_to_it(channel: Any, owner: Any, external_id: str, capture: Any) -> Conversation:
    """A customer's complaint, handed to IT (so it is in IT's routing)."""
    conversation = complain(channel, external_id, WORDS, author=f"cust-{external_id}")
    it = Department.objects.get(organization=channel.organization, slug="it")
    with capture(execute=True):
        handoffs.hand_off(conversation, it, "Refund the double charge?", by=owner, now=NOW)
    return conversation


def scored(conversation: Conversation, urgency: float) -> None:
    """Triage's urgency score for the conversation's messages."""
    Message.objects.filter(conversation=conversation).update(urgency=urgency)


def test_an_urgent_item_reaches_the_departments_slack_and_the_assignees_email(
    org: Any,
    channel: Any,
    owner: Any,
    teammate: Membership,
    it: Department,
    slack: FakeSlack,
    it_slack: Destination,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    notifications.save_policy(org, department=it, by=owner)
    notifications.save_policy(org, member=teammate, by=teammate.user)
    urgent = handed_to_it(channel, owner, "c1", django_capture_on_commit_callbacks)
    calm = handed_to_it(channel, owner, "c2", django_capture_on_commit_callbacks)
    scored(urgent, 0.93)
    scored(calm, 0.2)
    assign(urgent, teammate, by=owner)

    assert notifications.notify(org, NOW) == 2
    assert notifications.notify(org, NOW + timedelta(minutes=1)) == 0

    reference = f"#CASE-{urgent.number}"
    assert notices(slack) == [f"Urgent: {reference} needs a reply"]
    said = posted_text(slack)
    assert "Triage urgency 0.93" in said and f"/o/acme/c/{urgent.number}/|Open in earful" in said
    # Never the customer's words; the name only where the room's redaction shares it.
    assert "charged twice" not in said and "Sam Reed" not in said
    [mail] = mailoutbox
    assert mail.to == ["teammate@acme.example"]
    assert mail.subject == f"[earful] Urgent: {reference} needs a reply"
    assert "charged twice" not in mail.body and f"/o/acme/c/{urgent.number}/" in mail.body
    verbs = list(
        Event.objects.filter(verb__startswith="notification.").values_list("verb", flat=True)
    )
    assert verbs.count("notification.queued") == 2 and verbs.count("notification.sent") == 2


def test_the_customers_name_goes_only_where_the_room_shares_it(
    org: Any,
    channel: Any,
    owner: Any,
    it: Department,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    it_slack.redaction = Redaction.NONE
    it_slack.save()
    notifications.save_policy(org, department=it, by=owner)
    scored(handed_to_it(channel, owner, "c1", django_capture_on_commit_callbacks), 0.9)

    notifications.notify(org, NOW)

    assert "From Sam Reed." in posted_text(slack)
    assert "charged twice" not in posted_text(slack)


def test_each_of_the_departments_rooms_hears_of_it_once(
    org: Any,
    channel: Any,
    owner: Any,
    it: Department,
    fake: FakeServer,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    teams = FakeTeams(fake)
    tickets.add_destination(it, "teams", {"webhook_url": teams.url}, by=owner)
    notifications.save_policy(org, department=it, by=owner)
    talk = handed_to_it(channel, owner, "c1", django_capture_on_commit_callbacks)
    scored(talk, 0.9)

    assert notifications.notify(org, NOW) == 2
    assert notifications.notify(org, NOW + timedelta(minutes=5)) == 0

    assert notices(slack) == [f"Urgent: #CASE-{talk.number} needs a reply"]
    # Teams got the hand-off's card, then the notification's.
    title = teams.cards[-1]["body"][0]["inlines"][0]["text"]
    assert len(teams.cards) == 2 and title == f"Urgent: #CASE-{talk.number} needs a reply"


def test_an_sla_breach_and_a_mention_reach_slack_and_the_mentioned_persons_email(
    org: Any,
    channel: Any,
    owner: Any,
    it: Department,
    it_member: Membership,
    slack: FakeSlack,
    it_slack: Destination,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    notifications.save_policy(org, department=it, by=owner)
    notifications.save_policy(org, member=it_member, by=it_member.user)
    conversation = handed_to_it(channel, owner, "c1", django_capture_on_commit_callbacks)
    assign(conversation, it_member, by=owner)
    reference = f"#CASE-{conversation.number}"

    with django_capture_on_commit_callbacks(execute=True):
        sla.check_sla(org, NOW)
        add_note(conversation, "@ivy can you check the refund? " + WORDS, by=owner)
    # Ivy has her own settings: the mention reaches her through them, not straight away.
    assert [m.to for m in mailoutbox] == [["owner@acme.example"]]

    assert notifications.notify(org, NOW) == 4

    assert notices(slack) == [
        f"SLA breach: {reference}",
        f"owner mentioned @ivy on {reference}",
    ]
    assert "First response was due 2026-11-01 11:00 UTC" in posted_text(slack)
    assert "check the refund" not in posted_text(slack)
    breach, mention = mailoutbox[1:]
    assert breach.to == mention.to == ["ivy@acme.example"]
    assert breach.subject == f"[earful] SLA breach: {reference}"
    assert mention.subject == f"[earful] owner mentioned you on {reference}"
    assert "check the refund" not in mention.body and "charged twice" not in mention.body


def test_without_own_settings_a_mention_is_emailed_at_once_as_before(
    org: Any,
    complaint: Conversation,
    owner: Any,
    it_member: Membership,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        add_note(complaint, "@ivy have a look", by=owner)

    assert [m.to for m in mailoutbox] == [["ivy@acme.example"]]
    assert notifications.notify(org, NOW) == 0


def test_over_the_rate_limit_the_rest_go_in_one_summary(
    org: Any,
    channel: Any,
    owner: Any,
    it: Department,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    notifications.save_policy(org, department=it, by=owner, max_per_hour=2)
    talks = [
        handed_to_it(channel, owner, f"c{i}", django_capture_on_commit_callbacks) for i in range(5)
    ]
    for talk in talks:
        scored(talk, 0.95)

    assert notifications.notify(org, NOW) == 2

    first, summary = notices(slack)
    assert first == f"Urgent: #CASE-{talks[0].number} needs a reply"
    assert summary == "4 more notifications (4 new urgent item)"
    said = posted_text(slack)
    assert all(f"Urgent: #CASE-{t.number} needs a reply" in said for t in talks)
    statuses = list(Notification.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [NotificationStatus.SENT] + [NotificationStatus.SUMMARISED] * 4
    assert Event.objects.get(verb="notification.summarised").after["count"] == 4

    # The hour is used up: a new one waits for it, then goes.
    late = handed_to_it(channel, owner, "c9", django_capture_on_commit_callbacks)
    scored(late, 0.95)
    assert notifications.notify(org, NOW + timedelta(minutes=30)) == 0
    assert notifications.notify(org, NOW + timedelta(minutes=61)) == 1
    assert notices(slack)[-1] == f"Urgent: #CASE-{late.number} needs a reply"


def test_quiet_hours_hold_notifications_until_they_end_in_the_policys_zone(
    org: Any,
    channel: Any,
    owner: Any,
    it: Department,
    teammate: Membership,
    slack: FakeSlack,
    it_slack: Destination,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    sla.save_policy(org, timezone="Europe/Berlin")
    notifications.save_policy(org, department=it, by=owner, quiet_from=22, quiet_until=7)
    # The person keeps other hours than the department: hers end later.
    notifications.save_policy(org, member=teammate, by=owner, quiet_from=20, quiet_until=9)
    conversation = handed_to_it(channel, owner, "c1", django_capture_on_commit_callbacks)
    scored(conversation, 0.9)
    assign(conversation, teammate, by=owner)
    night = datetime(2026, 11, 2, 22, 30, tzinfo=UTC)  # 23:30 in Berlin

    assert notifications.notify(org, night) == 0
    assert notifications.notify(org, datetime(2026, 11, 3, 5, 0, tzinfo=UTC)) == 0

    held = set(Notification.objects.values_list("due_at", flat=True))
    # 07:00 and 09:00 in Berlin (UTC+1 in November).
    assert held == {
        datetime(2026, 11, 3, 6, 0, tzinfo=UTC),
        datetime(2026, 11, 3, 8, 0, tzinfo=UTC),
    }
    assert notices(slack) == [] and mailoutbox == []
    assert notifications.notify(org, datetime(2026, 11, 3, 6, 1, tzinfo=UTC)) == 1
    assert notices(slack) == [f"Urgent: #CASE-{conversation.number} needs a reply"]
    assert mailoutbox == []
    assert notifications.notify(org, datetime(2026, 11, 3, 8, 1, tzinfo=UTC)) == 1
    assert [m.to for m in mailoutbox] == [["teammate@acme.example"]]


def test_held_notifications_past_the_limit_go_as_a_summary_after_quiet_hours(
    org: Any,
    channel: Any,
    owner: Any,
    it: Department,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    notifications.save_policy(
        org, department=it, by=owner, quiet_from=0, quiet_until=8, max_per_hour=1
    )
    for i in range(3):
        scored(handed_to_it(channel, owner, f"c{i}", django_capture_on_commit_callbacks), 0.9)

    assert notifications.notify(org, datetime(2026, 11, 3, 3, 0, tzinfo=UTC)) == 0
    assert notifications.notify(org, datetime(2026, 11, 3, 8, 0, tzinfo=UTC)) == 1

    assert notices(slack) == ["3 more notifications (3 new urgent item)"]
    queued = Event.objects.filter(verb="notification.queued")
    assert [(e.after or {})["held_until"] for e in queued] == ["2026-11-03T08:00:00+00:00"] * 3


def test_a_slack_that_is_down_gets_the_notification_later_with_backoff(
    org: Any,
    channel: Any,
    owner: Any,
    it: Department,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    notifications.save_policy(org, department=it, by=owner)
    scored(handed_to_it(channel, owner, "c1", django_capture_on_commit_callbacks), 0.9)
    slack.mode = "down"

    assert notifications.notify(org, NOW) == 0

    item = Notification.objects.get()
    assert (item.attempts, item.last_error) == (1, "Slack answered 503")
    assert item.due_at == NOW + timedelta(seconds=30)
    failed = Event.objects.get(verb="notification.failed")
    assert failed.after is not None and failed.after["error"] == "Slack answered 503"
    slack.mode = ""
    assert notifications.notify(org, NOW + timedelta(seconds=10)) == 0
    assert notifications.notify(org, NOW + timedelta(seconds=31)) == 1
    assert len(notices(slack)) == 1


def test_the_inbox_tick_notifies(
    org: Any,
    channel: Any,
    owner: Any,
    it: Department,
    slack: FakeSlack,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    notifications.save_policy(org, department=it, by=owner, urgent=False)
    handed_to_it(channel, owner, "c1", django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        report = tick(NOW)

    # The complaint is past its first response target: the breach is news, urgency is off.
    assert report.breached >= 1 and report.notified == 1
    assert notices(slack)[0].startswith("SLA breach: #CASE-")


def test_history_before_the_policy_is_not_news(
    org: Any,
    channel: Any,
    owner: Any,
    it: Department,
    it_slack: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    scored(handed_to_it(channel, owner, "c1", django_capture_on_commit_callbacks), 0.9)
    policy = notifications.save_policy(org, department=it, by=owner)

    assert notifications.notify(org, NOW) == 0
    assert not Notification.objects.exists()
    policy.refresh_from_db()
    assert policy.message_cursor == Message.objects.latest("pk").pk


def test_settings_are_checked_and_each_save_is_an_event(
    org: Any, owner: Any, it: Department
) -> None:
    with pytest.raises(DomainError, match="between 0 and 1"):
        notifications.save_policy(org, department=it, by=owner, urgency_threshold=2.0)
    with pytest.raises(DomainError, match="both a start and an end"):
        notifications.save_policy(org, department=it, by=owner, quiet_from=22)
    with pytest.raises(DomainError, match="unknown notification settings"):
        notifications.save_policy(org, department=it, by=owner, event_cursor=0)
    assert not NotificationPolicy.objects.exists()

    notifications.save_policy(org, department=it, by=owner, max_per_hour=3)
    notifications.save_policy(org, department=it, by=owner, max_per_hour=4)

    saved = Event.objects.filter(verb="notification_policy.saved").order_by("pk")
    assert [(e.before, e.after) for e in saved] == [
        ({"max_per_hour": 6}, {"department": "it", "max_per_hour": 3}),
        ({"max_per_hour": 3}, {"department": "it", "max_per_hour": 4}),
    ]


def test_the_departments_page_and_a_persons_page_save_their_settings(
    org: Any, owner: Any, teammate: Membership, client: Any, it_slack: Destination
) -> None:
    client.force_login(owner)
    page = client.get("/o/acme/departments/").content.decode()
    assert "Notifications to Slack" in page

    client.post(
        "/o/acme/departments/it/notifications/",
        {
            "urgent": "on",
            "urgency_threshold": "0.7",
            "mentions": "on",
            "max_per_hour": "3",
            "quiet_from": "22",
            "quiet_until": "7",
        },
    )
    policy = NotificationPolicy.objects.get(department__slug="it")
    assert (policy.urgency_threshold, policy.sla_breaches, policy.quiet_from) == (0.7, False, 22)
    refused = client.post(
        "/o/acme/departments/it/notifications/", {"urgency_threshold": "lots"}, follow=True
    )
    assert "urgency is a number from 0 to 1" in refused.content.decode()

    client.force_login(teammate.user)
    assert "teammate@acme.example" in client.get("/o/acme/notifications/").content.decode()
    agent = client.post("/o/acme/departments/it/notifications/", {}, follow=True)
    assert "only managers and admins" in agent.content.decode()
    client.post("/o/acme/notifications/", {"sla_breaches": "on", "max_per_hour": "2"})
    mine = NotificationPolicy.objects.get(member=teammate)
    assert (mine.urgent, mine.sla_breaches, mine.max_per_hour) == (False, True, 2)
