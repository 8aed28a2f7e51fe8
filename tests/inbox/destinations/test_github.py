"""IT answers in GitHub Issues: PyGithub against a loopback server speaking GitHub's REST API,
and GitHub's signed webhooks posted to earful."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from earful.conversations.models import HandoffStatus, Note
from earful.inbox import handoffs, tickets
from earful.inbox.destinations import AuthError, build_destination
from earful.inbox.models import (
    Destination,
    ExternalTicket,
    Redaction,
    TicketState,
    TrackerDelivery,
)
from earful.inbox.tick import tick
from earful.org.models import Department, Event
from tests.channels.fakes import FakeServer
from tests.inbox.conftest import complain
from tests.inbox.destinations.fake_github import (
    REPOSITORY,
    SECRET,
    TOKEN,
    FakeGithub,
    fixture,
    signed,
)
from tests.inbox.destinations.roundtrip import (
    NOW,
    hand_to_it,
    report_back_on_x,
    tweeting_customer,
)

HOSTILE = (
    "The app crashes @octocat ``` <script>alert(1)</script> [win](http://evil.example) "
    "write to dana@example.com or +1 555 123 4567"
)


@pytest.fixture
def github(fake: FakeServer) -> FakeGithub:
    return FakeGithub(fake)


def github_settings(fake: FakeServer, **extra: Any) -> dict[str, Any]:
    return {
        "repository": REPOSITORY,
        "token": TOKEN,
        "webhook_secret": SECRET,
        "api_url": fake.url,
        **extra,
    }


@pytest.fixture
def it_github(org: Any, owner: Any, fake: FakeServer) -> Destination:
    it = Department.objects.get(organization=org, slug="it")
    return tickets.add_destination(it, "github", github_settings(fake), by=owner)


def post_hook(client: Client, destination: Destination, event: str, payload: Any) -> Any:
    return client.post(f"/hooks/destinations/{destination.code}/", **signed(event, payload))


def test_check_reads_the_repository_and_names_a_refused_token(
    fake: FakeServer, github: FakeGithub
) -> None:
    assert build_destination("github", github_settings(fake)).check() == (
        f"can open issues in {REPOSITORY}"
    )
    with pytest.raises(AuthError, match="refused the token"):
        build_destination("github", github_settings(fake, token="ghp_revoked")).check()


def test_bad_settings_are_refused_before_anything_is_stored(org: Any, owner: Any) -> None:
    it = Department.objects.get(organization=org, slug="it")
    with pytest.raises(Exception, match="repository"):
        tickets.add_destination(
            it,
            "github",
            {"repository": "no slash", "token": "t", "webhook_secret": SECRET},
            by=owner,
        )
    assert not Destination.objects.exists()


def test_a_hand_off_opens_an_issue_quoting_the_customer_inertly(
    channel: Any,
    owner: Any,
    client: Client,
    github: FakeGithub,
    it_github: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = complain(channel, "c1", HOSTILE)

    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)

    [issue] = github.issues
    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert (ticket.state, ticket.external_id, ticket.url) == (
        TicketState.OPEN,
        "1347",
        f"https://github.com/{REPOSITORY}/issues/1347",
    )
    assert issue["title"] == f"[#CASE-{conversation.number}] Crash on opening bookings since 4.2?"
    body = issue["body"]
    # The customer's words sit in a fence longer than any backtick run in them: no mention,
    # link, HTML or markdown of theirs is live on GitHub.
    assert "````text\nThe app crashes [handle] ``` <script>" in body
    # The default redaction keeps contact details at home.
    assert "dana@example.com" not in body and "555 123 4567" not in body
    assert "[email]" in body and "[phone]" in body and "@octocat" not in body
    assert f"/o/acme/c/{conversation.number}/" in body
    assert "Sam Reed" in body
    client.force_login(owner)
    page = client.get(f"/o/acme/c/{conversation.number}/").content.decode()
    assert f'href="https://github.com/{REPOSITORY}/issues/1347"' in page
    verbs = list(Event.objects.order_by("pk").values_list("verb", flat=True))
    assert verbs[-2:] == ["handoff.requested", "handoff.ticket_opened"]


def test_without_redaction_handles_stay_but_inert_in_the_fence(
    channel: Any,
    owner: Any,
    github: FakeGithub,
    it_github: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    it_github.redaction = Redaction.NONE
    it_github.save()
    hand_to_it(complain(channel, "c1", HOSTILE), owner, django_capture_on_commit_callbacks)

    body = github.issues[0]["body"]
    assert "````text\nThe app crashes @octocat ``` <script>" in body
    assert "dana@example.com" in body


def test_anonymous_redaction_leaves_out_the_name_too(
    channel: Any,
    owner: Any,
    github: FakeGithub,
    it_github: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    it_github.redaction = Redaction.ANONYMOUS
    it_github.save()
    hand_to_it(complain(channel, "c1", HOSTILE), owner, django_capture_on_commit_callbacks)

    assert "Sam Reed" not in github.issues[0]["body"]
    assert "from a customer" in github.issues[0]["body"]


def test_closing_the_issue_marks_the_hand_off_fixed_and_comments_become_notes(
    channel: Any,
    owner: Any,
    client: Client,
    github: FakeGithub,
    it_github: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = complain(channel, "c1", "The app crashes when I open my bookings")
    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)

    comment = post_hook(
        client, it_github, "issue_comment", github.comment(1347, "Fix ships in 2.1.")
    )
    closed = post_hook(client, it_github, "issues", github.close(1347))

    assert (comment.status_code, comment.json()) == (200, {"applied": 1})
    assert (closed.status_code, closed.json()) == (200, {"applied": 1})
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.FIXED
    assert handoff.answer == "Closed in GitHub Issues 1347"
    note = Note.objects.get(conversation=conversation)
    assert note.text == "octo-dev on GitHub Issues 1347: Fix ships in 2.1."
    assert "good news" in handoffs.report_back_draft(handoff)
    fixed = Event.objects.get(verb="handoff.fixed")
    assert fixed.actor is None and fixed.after["via"] == "GitHub Issues 1347"


def test_not_planned_means_wont_fix_with_its_own_draft(
    channel: Any,
    owner: Any,
    client: Client,
    github: FakeGithub,
    it_github: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "Please add dark mode"), owner, django_capture_on_commit_callbacks
    )

    post_hook(client, it_github, "issues", github.close(1347, reason="not_planned"))

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.WONT_FIX
    assert "will not be changing it" in handoffs.report_back_draft(handoff)
    assert Event.objects.filter(verb="handoff.wont_fix").count() == 1


def test_forged_and_replayed_webhooks_are_rejected_and_logged(
    channel: Any,
    owner: Any,
    client: Client,
    github: FakeGithub,
    it_github: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    payload = github.close(1347)
    hook = f"/hooks/destinations/{it_github.code}/"

    forged = client.post(hook, **signed("issues", payload, secret="not-the-secret-at-all"))
    unsigned = client.post(hook, data=b"{}", content_type="application/json")
    first = client.post(hook, **signed("issues", payload))
    replayed = client.post(hook, **signed("issues", payload))

    assert [forged.status_code, unsigned.status_code, first.status_code] == [401, 401, 200]
    assert replayed.status_code == 401
    assert replayed.json() == {"error": "a replay of a delivery"}
    rejected = Event.objects.filter(verb="destination.webhook_rejected").order_by("pk")
    assert [e.after["reason"] for e in rejected] == [
        "the X-Hub-Signature-256 signature does not match",
        "the X-Hub-Signature-256 signature does not match",
        "a replay of a delivery",
    ]
    assert TrackerDelivery.objects.count() == 1
    handoff.refresh_from_db()
    assert Event.objects.filter(verb="handoff.fixed").count() == 1


def test_a_ping_or_another_repository_changes_nothing(
    channel: Any,
    owner: Any,
    client: Client,
    github: FakeGithub,
    it_github: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    elsewhere = github.close(1347)
    elsewhere["repository"]["full_name"] = "someone/else"

    assert post_hook(client, it_github, "ping", fixture("ping.json")).json() == {"applied": 0}
    assert post_hook(client, it_github, "issues", elsewhere).json() == {"applied": 0}
    bad = client.post(
        f"/hooks/destinations/{it_github.code}/", **signed("issues", {"action": "closed"})
    )
    assert bad.status_code == 400
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.OPEN


def test_a_tracker_that_is_down_delays_the_hand_off_and_loses_nothing(
    channel: Any,
    owner: Any,
    client: Client,
    github: FakeGithub,
    it_github: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    github.mode = "down"
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )

    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert ticket.state == TicketState.PENDING and ticket.attempts == 1
    assert "503" in ticket.last_error
    client.force_login(owner)
    page = client.get(f"/o/acme/c/{handoff.conversation.number}/").content.decode()
    assert "GitHub Issues:" in page and "not opened yet (1 tries; last: GitHub answered 503" in page
    assert ticket.next_attempt_at == NOW + timedelta(seconds=30)
    # Not yet due: the tick leaves it; then GitHub is still down; then it is back.
    assert tickets.open_due_tickets(NOW + timedelta(seconds=10)) == 0
    assert tickets.open_due_tickets(NOW + timedelta(seconds=31)) == 0
    ticket.refresh_from_db()
    assert ticket.attempts == 2 and ticket.next_attempt_at == NOW + timedelta(seconds=91)
    github.mode = ""
    assert tickets.open_due_tickets(NOW + timedelta(minutes=2)) == 1
    assert tickets.open_due_tickets(NOW + timedelta(hours=2)) == 0

    ticket.refresh_from_db()
    assert (ticket.state, ticket.external_id, ticket.last_error) == (TicketState.OPEN, "1347", "")
    assert len(github.issues) == 1
    failures = Event.objects.filter(verb="handoff.ticket_failed")
    assert failures.count() == 2


def test_a_rate_limited_or_refused_tracker_is_retried_with_the_reason_shown(
    channel: Any,
    owner: Any,
    github: FakeGithub,
    it_github: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    github.mode = "limited"
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert ticket.state == TicketState.PENDING and "rate limited" in ticket.last_error

    it_github.settings = {**it_github.settings, "token": "ghp_revoked"}
    it_github.save()
    github.mode = ""
    assert tickets.open_due_tickets(NOW + timedelta(minutes=1)) == 0
    ticket.refresh_from_db()
    assert "refused the token" in ticket.last_error
    assert tickets.check_destination(it_github, NOW, by=owner).startswith("GitHub refused")


def test_polling_reads_closed_issues_where_webhooks_cannot_reach(
    channel: Any,
    owner: Any,
    fake: FakeServer,
    github: FakeGithub,
    django_capture_on_commit_callbacks: Any,
) -> None:
    it = Department.objects.get(organization=channel.organization, slug="it")
    polled = tickets.add_destination(it, "github", github_settings(fake, poll=True), by=owner)
    polled.cursor = "2026-11-01T00:00:00+00:00"
    polled.save()
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    github.comment(1347, "Looking at it now.")
    github.close(1347)

    report = tick(NOW + timedelta(minutes=5))

    assert report.tracker_updates == 2
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.FIXED
    assert Note.objects.get().text == "octo-dev on GitHub Issues 1347: Looking at it now."
    polled.refresh_from_db()
    assert polled.cursor > "2026-11-01T00:00:00+00:00"
    asked = [s for s in fake.seen if s.path.endswith("/issues") and s.method == "GET"]
    assert asked[0].arg("since") == "2026-11-01T00:00:00Z"


def test_an_unanswered_hand_off_escalates_once_after_its_due_time(
    channel: Any,
    owner: Any,
    github: FakeGithub,
    it_github: Destination,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    assert handoff.due_at == NOW + timedelta(days=1)

    assert tick(NOW + timedelta(hours=23)).escalated == 0
    assert tick(NOW + timedelta(hours=25)).escalated == 1
    assert tick(NOW + timedelta(hours=26)).escalated == 0

    assert Event.objects.filter(verb="handoff.escalated").count() == 1
    [mail] = mailoutbox
    assert mail.to == ["owner@acme.example"]
    assert "IT" in mail.body and "It crashes" not in mail.body


def test_the_round_trip_from_a_tweet_to_github_and_back_to_the_customer(
    org: Any,
    owner: Any,
    client: Client,
    fake: FakeServer,
    github: FakeGithub,
    it_github: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation, tweets = tweeting_customer(org, fake)

    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)
    assert "your app crashes every time" in github.issues[0]["body"]
    assert "product_bug" in [label["name"] for label in github.issues[0]["labels"]]
    post_hook(client, it_github, "issues", github.close(1347))
    handoff.refresh_from_db()
    report_back_on_x(org, owner, client, handoff, tweets, django_capture_on_commit_callbacks)
