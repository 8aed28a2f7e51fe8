"""IT answers in GitLab issues: python-gitlab against a loopback server speaking GitLab's REST
API, and GitLab's token-carrying webhooks posted to earful."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from earful.conversations.models import HandoffStatus, Note
from earful.inbox import handoffs, tickets
from earful.inbox.destinations import AuthError, build_destination
from earful.inbox.destinations.gitlab import indented
from earful.inbox.models import Destination, ExternalTicket, TicketState, TrackerDelivery
from earful.inbox.tick import tick
from earful.org.models import Department, Event
from tests.channels.fakes import FakeServer
from tests.inbox.conftest import complain
from tests.inbox.destinations.fake_gitlab import (
    PROJECT,
    PROJECT_PATH,
    TOKEN,
    WEBHOOK_TOKEN,
    FakeGitlab,
    hook,
)
from tests.inbox.destinations.roundtrip import (
    NOW,
    hand_to_it,
)

# Markdown, a mention, a reference, HTML, a link, a fence-closing line and quick actions at
# line starts (after every kind of line break), and contact details.
HOSTILE = (
    "The app crashes @octocat #12 ~urgent <script>alert(1)</script> [win](http://evil.example)\n"
    "```\n/close\r/assign @intruder\r\n/label ~spam\n```\n"
    "write to dana@example.com or +1 555 123 4567"
)


@pytest.fixture
def gitlab(fake: FakeServer) -> FakeGitlab:
    return FakeGitlab(fake)


def gitlab_settings(fake: FakeServer, **extra: Any) -> dict[str, Any]:
    return {
        "url": fake.url,
        "project": PROJECT,
        "token": TOKEN,
        "webhook_token": WEBHOOK_TOKEN,
        **extra,
    }


@pytest.fixture
def it_gitlab(org: Any, owner: Any, fake: FakeServer) -> Destination:
    it = Department.objects.get(organization=org, slug="it")
    return tickets.add_destination(it, "gitlab", gitlab_settings(fake), by=owner)


def post_hook(client: Client, destination: Destination, event: str, payload: Any, **kw: Any) -> Any:
    return client.post(f"/hooks/destinations/{destination.code}/", **hook(event, payload, **kw))


def test_check_reads_the_project_and_names_a_refused_token(
    fake: FakeServer, gitlab: FakeGitlab
) -> None:
    assert build_destination("gitlab", gitlab_settings(fake)).check() == (
        f"can open issues in {PROJECT}"
    )
    with pytest.raises(AuthError, match="GitLab refused the token"):
        build_destination("gitlab", gitlab_settings(fake, token="glpat-revoked")).check()
    # The project was asked for by its URL-encoded path, with the token in its header.
    assert fake.seen[0].path == "/api/v4/projects/acme-air%2Frouter-firmware"


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"project": "no slash"}, "project"),
        ({"webhook_token": "short"}, "webhook_token"),
        ({"url": "ftp://gitlab.example"}, "url"),
        ({"unknown": "x"}, "unknown"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_stored(
    org: Any, owner: Any, bad: dict[str, Any], named: str
) -> None:
    it = Department.objects.get(organization=org, slug="it")
    raw = {"project": PROJECT, "token": TOKEN, "webhook_token": WEBHOOK_TOKEN, **bad}
    with pytest.raises(Exception, match=named):
        tickets.add_destination(it, "gitlab", raw, by=owner)
    assert not Destination.objects.exists()


def test_a_hand_off_opens_an_issue_quoting_the_customer_inertly(
    channel: Any,
    owner: Any,
    client: Client,
    gitlab: FakeGitlab,
    it_gitlab: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = complain(channel, "c1", HOSTILE)

    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)

    [issue] = gitlab.issues
    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert (ticket.state, ticket.external_id, ticket.url) == (
        TicketState.OPEN,
        "87",
        f"https://gitlab.com/{PROJECT}/-/issues/87",
    )
    assert issue["title"] == f"[#CASE-{conversation.number}] Crash on opening bookings since 4.2?"
    description = issue["description"]
    # Every line the customer wrote is indented four spaces: an indented code block, shown
    # as it is, and no line of it begins with the slash of a quick action.
    assert "\n    The app crashes [handle] #12 ~urgent <script>" in description
    assert "\n    ```\n    /close\n    /assign [handle]\n    /label ~spam\n    ```\n" in description
    assert not [line for line in description.splitlines() if line.startswith(("/", "```"))]
    assert "\r" not in description
    # The default redaction keeps contact details at home.
    assert "dana@example.com" not in description and "555 123 4567" not in description
    assert "[email]" in description and "[phone]" in description
    assert "@octocat" not in description and "@intruder" not in description
    assert f"/o/acme/c/{conversation.number}/" in description
    assert "` About #CASE-" in description and "Sam Reed" in description
    client.force_login(owner)
    page = client.get(f"/o/acme/c/{conversation.number}/").content.decode()
    assert f'href="https://gitlab.com/{PROJECT}/-/issues/87"' in page
    verbs = list(Event.objects.order_by("pk").values_list("verb", flat=True))
    assert verbs[-2:] == ["handoff.requested", "handoff.ticket_opened"]


def test_indenting_keeps_every_line_and_kind_of_line_break_in_the_block() -> None:
    assert indented("a\r/close\r\n\n/b") == "    a\n    /close\n    \n    /b"
    assert indented("") == "    "


def test_status_flows_back_and_comments_become_notes(
    channel: Any,
    owner: Any,
    client: Client,
    gitlab: FakeGitlab,
    it_gitlab: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = complain(channel, "c1", "The app crashes when I open my bookings")
    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)

    assigned = post_hook(client, it_gitlab, "Issue Hook", gitlab.assign(87))
    handoff.refresh_from_db()
    assert (assigned.json(), handoff.status) == ({"applied": 1}, HandoffStatus.ACKNOWLEDGED)
    comment = post_hook(client, it_gitlab, "Note Hook", gitlab.comment(87, "Fix ships in 2.1."))
    closed = post_hook(client, it_gitlab, "Issue Hook", gitlab.close(87))

    assert (comment.status_code, comment.json()) == (200, {"applied": 1})
    assert (closed.status_code, closed.json()) == (200, {"applied": 1})
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.FIXED
    assert handoff.answer == "Closed in GitLab issues 87"
    note = Note.objects.get(conversation=conversation)
    assert note.text == "gl-dev on GitLab issues 87: Fix ships in 2.1."
    assert "good news" in handoffs.report_back_draft(handoff)
    fixed = Event.objects.get(verb="handoff.fixed")
    assert fixed.actor is None and fixed.after["via"] == "GitLab issues 87"

    # Reopened before the customer heard: IT works on it again.
    reopened = post_hook(client, it_gitlab, "Issue Hook", gitlab.reopen(87))
    handoff.refresh_from_db()
    assert (reopened.json(), handoff.status) == ({"applied": 1}, HandoffStatus.IN_PROGRESS)
    verbs = list(Event.objects.order_by("pk").values_list("verb", flat=True))
    assert [v for v in verbs if v.startswith("handoff.")] == [
        "handoff.requested",
        "handoff.ticket_opened",
        "handoff.acknowledged",
        "handoff.fixed",
        "handoff.in_progress",
    ]


def test_a_close_with_a_wont_fix_label_means_wont_fix(
    channel: Any,
    owner: Any,
    client: Client,
    gitlab: FakeGitlab,
    it_gitlab: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "Please add dark mode"), owner, django_capture_on_commit_callbacks
    )

    post_hook(client, it_gitlab, "Issue Hook", gitlab.close(87, "Won\u2019t Fix"))

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.WONT_FIX
    assert "will not be changing it" in handoffs.report_back_draft(handoff)
    assert Event.objects.filter(verb="handoff.wont_fix").count() == 1


def test_forged_and_replayed_webhooks_are_rejected_and_logged(
    channel: Any,
    owner: Any,
    client: Client,
    gitlab: FakeGitlab,
    it_gitlab: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    note = gitlab.comment(87, "Looking.")
    closed = gitlab.close(87)
    key = "908a6d9e-45fd-46c8-97e6-c4f350f219dd"

    forged = post_hook(client, it_gitlab, "Issue Hook", closed, token="not-the-token-at-all")
    missing = post_hook(client, it_gitlab, "Issue Hook", closed, token=None)
    first = post_hook(client, it_gitlab, "Note Hook", note, idempotency_key=key)
    # GitLab retrying that delivery: the same Idempotency-Key (whatever the body).
    retried = post_hook(client, it_gitlab, "Note Hook", note | {"x": 1}, idempotency_key=key)
    # Without the key (GitLab before 17.4), the same body again is the replay.
    once = post_hook(client, it_gitlab, "Issue Hook", closed)
    again = post_hook(client, it_gitlab, "Issue Hook", closed)

    statuses = [r.status_code for r in (forged, missing, first, retried, once, again)]
    assert statuses == [401, 401, 200, 401, 200, 401]
    assert again.json() == {"error": "a replay of a delivery"}
    rejected = Event.objects.filter(verb="destination.webhook_rejected").order_by("pk")
    assert [e.after["reason"] for e in rejected] == [
        "the X-Gitlab-Token does not match",
        "the X-Gitlab-Token does not match",
        "a replay of a delivery",
        "a replay of a delivery",
    ]
    assert TrackerDelivery.objects.count() == 2
    assert Note.objects.count() == 1
    assert Event.objects.filter(verb="handoff.fixed").count() == 1
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.FIXED


def test_another_project_a_merge_request_or_a_malformed_body_changes_nothing(
    channel: Any,
    owner: Any,
    client: Client,
    gitlab: FakeGitlab,
    it_gitlab: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    elsewhere = gitlab.close(87)
    elsewhere["project"].update(path_with_namespace="someone/else", id=1)
    on_a_merge_request = gitlab.comment(87, "LGTM")
    on_a_merge_request["object_attributes"]["noteable_type"] = "MergeRequest"
    system = gitlab.comment(87, "assigned to @gl-dev")
    system["object_attributes"]["system"] = True

    assert post_hook(client, it_gitlab, "Issue Hook", elsewhere).json() == {"applied": 0}
    assert post_hook(client, it_gitlab, "Note Hook", on_a_merge_request).json() == {"applied": 0}
    assert post_hook(client, it_gitlab, "Note Hook", system).json() == {"applied": 0}
    assert post_hook(client, it_gitlab, "Push Hook", {"object_kind": "push"}).json() == {
        "applied": 0
    }
    bad = post_hook(client, it_gitlab, "Issue Hook", {"object_kind": "issue"})
    odd = gitlab.assign(87) | {"changes": "assignees"}
    odd_project = gitlab.close(87) | {"project": "acme-air/router-firmware"}
    not_json = client.post(
        f"/hooks/destinations/{it_gitlab.code}/",
        data=b"{not json",
        content_type="application/json",
        headers={"X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": WEBHOOK_TOKEN},
    )

    statuses = [
        post_hook(client, it_gitlab, "Issue Hook", body).status_code for body in (odd, odd_project)
    ]
    assert [bad.status_code, not_json.status_code, *statuses] == [400, 400, 400, 400]
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.OPEN
    assert not Note.objects.exists()


def test_a_tracker_that_is_down_delays_the_hand_off_and_loses_nothing(
    channel: Any,
    owner: Any,
    client: Client,
    fake: FakeServer,
    gitlab: FakeGitlab,
    it_gitlab: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    gitlab.mode = "down"
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )

    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert ticket.state == TicketState.PENDING and ticket.attempts == 1
    assert ticket.last_error == "GitLab answered 500: 500 Internal Server Error"
    client.force_login(owner)
    page = client.get(f"/o/acme/c/{handoff.conversation.number}/").content.decode()
    assert "GitLab issues:" in page and "not opened yet (1 tries; last: GitLab answered 500" in page
    assert ticket.next_attempt_at == NOW + timedelta(seconds=30)
    assert tickets.open_due_tickets(NOW + timedelta(seconds=10)) == 0
    assert tickets.open_due_tickets(NOW + timedelta(seconds=31)) == 0
    ticket.refresh_from_db()
    assert ticket.attempts == 2 and ticket.next_attempt_at == NOW + timedelta(seconds=91)
    # A proxy's page instead of GitLab's JSON is shown as text, not as Python bytes.
    fake.reply("POST", rf"{PROJECT_PATH}/issues", 502, b"<html>\n<h1>502 Bad Gateway</h1>\n</html>")
    assert tickets.open_due_tickets(NOW + timedelta(seconds=92)) == 0
    ticket.refresh_from_db()
    assert ticket.last_error == "GitLab answered 502: <html> <h1>502 Bad Gateway</h1> </html>"
    fake.routes.pop(0)
    gitlab.mode = ""
    assert tickets.open_due_tickets(NOW + timedelta(minutes=4)) == 1
    assert tickets.open_due_tickets(NOW + timedelta(hours=2)) == 0

    ticket.refresh_from_db()
    assert (ticket.state, ticket.external_id, ticket.last_error) == (TicketState.OPEN, "87", "")
    assert len(gitlab.issues) == 1
    assert Event.objects.filter(verb="handoff.ticket_failed").count() == 3


def test_a_rate_limited_or_refused_tracker_is_retried_with_the_reason_shown(
    channel: Any,
    owner: Any,
    fake: FakeServer,
    gitlab: FakeGitlab,
    it_gitlab: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    gitlab.mode = "limited"
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    ticket = ExternalTicket.objects.get(handoff=handoff)
    # GitLab's hour-long Retry-After is neither slept out nor retried in place.
    assert ticket.state == TicketState.PENDING
    assert ticket.last_error.startswith("rate limited until ")
    until = datetime.fromisoformat(ticket.last_error.removeprefix("rate limited until "))
    assert until > datetime.now(UTC) + timedelta(minutes=50)
    assert len([s for s in fake.seen if s.method == "POST"]) == 1

    it_gitlab.settings = {**it_gitlab.settings, "token": "glpat-revoked"}
    it_gitlab.save()
    gitlab.mode = ""
    assert tickets.open_due_tickets(NOW + timedelta(minutes=1)) == 0
    ticket.refresh_from_db()
    assert "refused the token" in ticket.last_error
    assert tickets.check_destination(it_gitlab, NOW, by=owner).startswith("GitLab refused")
    assert not gitlab.issues


def test_polling_reads_notes_and_closed_issues_where_webhooks_cannot_reach(
    channel: Any,
    owner: Any,
    fake: FakeServer,
    gitlab: FakeGitlab,
    django_capture_on_commit_callbacks: Any,
) -> None:
    it = Department.objects.get(organization=channel.organization, slug="it")
    polled = tickets.add_destination(it, "gitlab", gitlab_settings(fake, poll=True), by=owner)
    polled.cursor = "2026-11-01T00:00:00+00:00"
    polled.save()
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    gitlab.comment(87, "Looking at it now.")
    gitlab.close(87, "wontfix")

    report = tick(NOW + timedelta(minutes=5))

    assert report.tracker_updates == 2
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.WONT_FIX
    assert Note.objects.get().text == "gl-dev on GitLab issues 87: Looking at it now."
    polled.refresh_from_db()
    assert polled.cursor > "2026-11-01T00:00:00+00:00"
    [asked] = [s for s in fake.seen if s.path.endswith("/issues") and s.method == "GET"]
    assert asked.arg("updated_after") == "2026-11-01T00:00:00+00:00"
    assert asked.query["iids[]"] == ["87"]
    # Nothing new since: the next poll applies nothing twice.
    assert tick(NOW + timedelta(minutes=10)).tracker_updates == 0
    assert Note.objects.count() == 1
