"""IT answers in Jira: the jira client against a loopback server speaking Jira Cloud's REST
API, and Jira's signed admin webhooks posted to earful."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from earful.conversations.models import HandoffStatus, Note
from earful.inbox import handoffs, tickets
from earful.inbox.destinations import AuthError, ConnectorError, build_destination
from earful.inbox.destinations.jira import noformat
from earful.inbox.models import (
    Destination,
    ExternalTicket,
    TicketState,
    TrackerDelivery,
)
from earful.inbox.tick import tick
from earful.org.models import Department, Event
from tests.channels.fakes import FakeServer
from tests.inbox.conftest import complain
from tests.inbox.destinations.fake_jira import (
    API,
    API_TOKEN,
    EMAIL,
    SECRET,
    FakeJira,
    signed,
)
from tests.inbox.destinations.roundtrip import (
    NOW,
    hand_to_it,
    report_back_on_x,
    tweeting_customer,
)

HOSTILE = (
    "The app crashes [~accountid:5b10a2844c20165700ede21g] {noformat}\n"
    "{html}<script>alert(1)</script>{html} [win|http://evil.example] *bold* {NoFormat:title=x}\n"
    "write to dana@example.com or +1 555 123 4567 @octocat"
)


@pytest.fixture
def jira(fake: FakeServer) -> FakeJira:
    return FakeJira(fake)


def jira_settings(fake: FakeServer, **extra: Any) -> dict[str, Any]:
    return {
        "server": fake.url,
        "project": "IT",
        "email": EMAIL,
        "api_token": API_TOKEN,
        "webhook_secret": SECRET,
        **extra,
    }


@pytest.fixture
def it_jira(org: Any, owner: Any, fake: FakeServer) -> Destination:
    it = Department.objects.get(organization=org, slug="it")
    return tickets.add_destination(it, "jira", jira_settings(fake), by=owner)


def post_hook(client: Client, destination: Destination, payload: Any, **kw: Any) -> Any:
    return client.post(f"/hooks/destinations/{destination.code}/", **signed(payload, **kw))


def test_check_reads_the_project_and_names_refused_credentials(
    fake: FakeServer, jira: FakeJira
) -> None:
    assert build_destination("jira", jira_settings(fake)).check() == (
        "can open Task issues in IT (IT)"
    )
    # One request: the client asks nothing of the server before it is used.
    assert [s.path for s in fake.seen] == [f"{API}/project/IT"]
    with pytest.raises(AuthError, match=r"Jira refused the credentials \(401"):
        build_destination("jira", jira_settings(fake, api_token="revoked")).check()
    with pytest.raises(ConnectorError, match="IT has no issue type 'Epic'"):
        build_destination("jira", jira_settings(fake, issue_type="Epic")).check()


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"project": "it-lowercase"}, "project"),
        ({"webhook_secret": "short"}, "webhook_secret"),
        ({"server": "file:///etc/passwd"}, "server"),
        ({"statuses": {"Done": "fixed"}}, "statuses"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_stored(
    org: Any, owner: Any, bad: dict[str, Any], named: str
) -> None:
    it = Department.objects.get(organization=org, slug="it")
    raw = {
        "server": "https://acme-air.atlassian.net",
        "project": "IT",
        "api_token": API_TOKEN,
        "webhook_secret": SECRET,
        **bad,
    }
    with pytest.raises(Exception, match=named):
        tickets.add_destination(it, "jira", raw, by=owner)
    assert not Destination.objects.exists()


def test_a_manager_adds_a_jira_destination_with_its_status_mapping_from_the_form(
    org: Any, owner: Any, client: Client, fake: FakeServer, jira: FakeJira
) -> None:
    client.force_login(owner)
    blank = client.get("/o/acme/departments/").content.decode()
    # List settings come prefilled with their defaults, so a form sent as it is keeps them.
    assert 'name="in_progress_statuses" value="indeterminate"' in blank
    assert 'name="wont_fix_resolutions" value="Won&#x27;t Do, Won&#x27;t Fix"' in blank
    form = {
        "kind": "jira",
        "server": fake.url,
        "project": "IT",
        "issue_type": "Bug",
        "email": EMAIL,
        "api_token": API_TOKEN,
        "webhook_secret": SECRET,
        "acknowledged_statuses": "Triaged, In Review",
        "in_progress_statuses": "indeterminate",
        "fixed_statuses": "done",
        "wont_fix_statuses": "Won't Do, Won't Fix",
        "wont_fix_resolutions": "Won't Do, Won't Fix",
        "redaction": "contact",
    }

    client.post("/o/acme/departments/it/destinations/", form, follow=True)
    destination = Destination.objects.get()
    checked = client.post(f"/o/acme/destinations/{destination.code}/check/", follow=True)
    page = client.get("/o/acme/departments/").content.decode()

    assert destination.settings["acknowledged_statuses"] == ["Triaged", "In Review"]
    assert destination.settings["wont_fix_resolutions"] == ["Won't Do", "Won't Fix"]
    assert "can open Bug issues in IT (IT)" in checked.content.decode()
    assert API_TOKEN not in page and SECRET not in page


def test_a_hand_off_opens_an_issue_quoting_the_customer_inertly(
    channel: Any,
    owner: Any,
    client: Client,
    fake: FakeServer,
    jira: FakeJira,
    it_jira: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = complain(channel, "c1", HOSTILE)

    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)

    [issue] = jira.issues.values()
    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert (ticket.state, ticket.external_id, ticket.url) == (
        TicketState.OPEN,
        "IT-42",
        f"{fake.url}/browse/IT-42",
    )
    fields = issue["fields"]
    assert (
        fields["summary"] == f"[#CASE-{conversation.number}] Crash on opening bookings since 4.2?"
    )
    description = fields["description"]
    # The customer's words sit in {noformat}, and their own {noformat} cannot end it early:
    # the description has exactly the blocks earful opened and closed.
    assert "{noformat}\nThe app crashes [~accountid:5b10a2844c20165700ede21g] { noformat}\n" in (
        description
    )
    assert "{ NoFormat:title=x}" in description
    assert description.count("{noformat}") == 2 * 3
    assert "dana@example.com" not in description and "555 123 4567" not in description
    assert "[email]" in description and "[phone]" in description and "@octocat" not in description
    assert "\n[Open the conversation in earful|http" in description
    assert description.endswith(f"/o/acme/c/{conversation.number}/]")
    assert "Sam Reed" in description
    assert fields["labels"] and all(" " not in label for label in fields["labels"])
    # Only the create: no server info, no issue type look-up, no re-read of the issue.
    assert [(s.method, s.path) for s in fake.seen] == [("POST", f"{API}/issue")]
    verbs = list(Event.objects.order_by("pk").values_list("verb", flat=True))
    assert verbs[-2:] == ["handoff.requested", "handoff.ticket_opened"]


def test_noformat_keeps_every_way_of_writing_its_end_inside() -> None:
    quoted = noformat("a {noformat} b {NOFORMAT} c {noformat:borderStyle=none}")
    assert quoted == (
        "{noformat}\na { noformat} b { NOFORMAT} c { noformat:borderStyle=none}\n{noformat}"
    )


def test_status_flows_back_through_the_workflow_and_comments_become_notes(
    channel: Any,
    owner: Any,
    client: Client,
    jira: FakeJira,
    it_jira: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation = complain(channel, "c1", "The app crashes when I open my bookings")
    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)

    steps = [
        (jira.assign("IT-42"), HandoffStatus.ACKNOWLEDGED),
        (jira.transition("IT-42", "In Progress"), HandoffStatus.IN_PROGRESS),
        (jira.comment("IT-42", "Fix ships in 2.1."), HandoffStatus.IN_PROGRESS),
        (jira.transition("IT-42", "Done", "Done"), HandoffStatus.FIXED),
    ]
    for payload, status in steps:
        answer = post_hook(client, it_jira, payload)
        handoff.refresh_from_db()
        assert (answer.json(), handoff.status) == ({"applied": 1}, status)

    assert handoff.answer == "Closed in Jira IT-42"
    assert (
        Note.objects.get(conversation=conversation).text
        == "Jo Dev on Jira IT-42: Fix ships in 2.1."
    )
    assert "good news" in handoffs.report_back_draft(handoff)
    fixed = Event.objects.get(verb="handoff.fixed")
    assert fixed.actor is None and fixed.after["via"] == "Jira IT-42"


@pytest.mark.parametrize(
    ("status", "resolution"),
    [("Done", "Won't Do"), ("Won't Do", None), ("Won't Do", "Done")],
)
def test_wont_do_by_resolution_or_status_means_wont_fix(
    channel: Any,
    owner: Any,
    client: Client,
    jira: FakeJira,
    it_jira: Destination,
    django_capture_on_commit_callbacks: Any,
    status: str,
    resolution: str | None,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "Please add dark mode"), owner, django_capture_on_commit_callbacks
    )

    post_hook(client, it_jira, jira.transition("IT-42", status, resolution))

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.WONT_FIX
    assert "will not be changing it" in handoffs.report_back_draft(handoff)


def test_the_status_mapping_is_the_departments_own(
    channel: Any,
    owner: Any,
    client: Client,
    fake: FakeServer,
    jira: FakeJira,
    django_capture_on_commit_callbacks: Any,
) -> None:
    it = Department.objects.get(organization=channel.organization, slug="it")
    mapped = tickets.add_destination(
        it,
        "jira",
        jira_settings(
            fake,
            acknowledged_statuses=["In Review"],
            in_progress_statuses=["In Progress"],
            wont_fix_resolutions=["Duplicate"],
        ),
        by=owner,
    )
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )

    # "In Review" is in progress by its category, acknowledged by this department's say.
    post_hook(client, mapped, jira.transition("IT-42", "In Review"))
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ACKNOWLEDGED
    post_hook(client, mapped, jira.transition("IT-42", "Done", "Duplicate"))
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.WONT_FIX


def test_forged_and_replayed_webhooks_are_rejected_and_logged(
    channel: Any,
    owner: Any,
    client: Client,
    jira: FakeJira,
    it_jira: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    payload = jira.transition("IT-42", "Done", "Done")
    hook = f"/hooks/destinations/{it_jira.code}/"

    forged = post_hook(client, it_jira, payload, secret="not-the-secret-at-all")
    unsigned = client.post(hook, data=b"{}", content_type="application/json")
    first = post_hook(client, it_jira, payload)
    # The same signed body again, under a new delivery identifier: still a replay.
    replayed = post_hook(client, it_jira, payload)

    assert [forged.status_code, unsigned.status_code, first.status_code] == [401, 401, 200]
    assert replayed.status_code == 401
    assert replayed.json() == {"error": "a replay of a delivery"}
    rejected = Event.objects.filter(verb="destination.webhook_rejected").order_by("pk")
    assert [e.after["reason"] for e in rejected] == [
        "the X-Hub-Signature signature does not match",
        "the X-Hub-Signature signature does not match",
        "a replay of a delivery",
    ]
    assert TrackerDelivery.objects.count() == 1
    handoff.refresh_from_db()
    assert Event.objects.filter(verb="handoff.fixed").count() == 1


def test_other_projects_events_or_a_malformed_body_change_nothing(
    channel: Any,
    owner: Any,
    client: Client,
    jira: FakeJira,
    it_jira: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    elsewhere = jira.transition("IT-42", "Done", "Done")
    elsewhere["issue"]["key"] = "OPS-42"
    created = jira.comment("IT-42", "x") | {"webhookEvent": "jira:issue_created"}
    # The same comment as an issue update (Jira sends both): only comment_created counts.
    commented = jira.assign("IT-42") | {"issue_event_type_name": "issue_commented"}
    commented["changelog"]["items"] = []

    assert post_hook(client, it_jira, elsewhere).json() == {"applied": 0}
    assert post_hook(client, it_jira, created).json() == {"applied": 0}
    assert post_hook(client, it_jira, commented).json() == {"applied": 0}
    bad = post_hook(client, it_jira, {"webhookEvent": "jira:issue_updated"})
    worse = post_hook(client, it_jira, {"webhookEvent": "comment_created", "issue": {"key": 1}})
    assert (bad.status_code, worse.status_code) == (400, 400)
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.OPEN
    assert not Note.objects.exists()


def test_a_tracker_that_is_down_delays_the_hand_off_and_loses_nothing(
    channel: Any,
    owner: Any,
    client: Client,
    jira: FakeJira,
    it_jira: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    jira.mode = "down"
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )

    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert ticket.state == TicketState.PENDING and ticket.attempts == 1
    assert ticket.last_error == "Jira answered 503: Service Unavailable"
    client.force_login(owner)
    page = client.get(f"/o/acme/c/{handoff.conversation.number}/").content.decode()
    assert "Jira:" in page and "not opened yet (1 tries; last: Jira answered 503" in page
    assert ticket.next_attempt_at == NOW + timedelta(seconds=30)
    assert tickets.open_due_tickets(NOW + timedelta(seconds=10)) == 0
    assert tickets.open_due_tickets(NOW + timedelta(seconds=31)) == 0
    ticket.refresh_from_db()
    assert ticket.attempts == 2 and ticket.next_attempt_at == NOW + timedelta(seconds=91)
    jira.mode = ""
    assert tickets.open_due_tickets(NOW + timedelta(minutes=2)) == 1
    assert tickets.open_due_tickets(NOW + timedelta(hours=2)) == 0

    ticket.refresh_from_db()
    assert (ticket.state, ticket.external_id, ticket.last_error) == (TicketState.OPEN, "IT-42", "")
    assert len(jira.issues) == 1
    assert Event.objects.filter(verb="handoff.ticket_failed").count() == 2


def test_a_rate_limited_or_refused_tracker_is_retried_with_the_reason_shown(
    channel: Any,
    owner: Any,
    fake: FakeServer,
    jira: FakeJira,
    it_jira: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    jira.mode = "limited"
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    ticket = ExternalTicket.objects.get(handoff=handoff)
    assert ticket.state == TicketState.PENDING
    assert ticket.last_error.startswith("rate limited until ")
    until = datetime.fromisoformat(ticket.last_error.removeprefix("rate limited until "))
    assert until > datetime.now(UTC) + timedelta(minutes=50)
    # Neither the client nor earful's session retried the create in place.
    assert len([s for s in fake.seen if s.method == "POST"]) == 1

    it_jira.settings = {**it_jira.settings, "api_token": "revoked"}
    it_jira.save()
    jira.mode = ""
    assert tickets.open_due_tickets(NOW + timedelta(minutes=1)) == 0
    ticket.refresh_from_db()
    assert "refused the credentials" in ticket.last_error
    assert tickets.check_destination(it_jira, NOW, by=owner).startswith("Jira refused")
    assert not jira.issues


def test_polling_reads_statuses_and_comments_where_webhooks_cannot_reach(
    channel: Any,
    owner: Any,
    fake: FakeServer,
    jira: FakeJira,
    django_capture_on_commit_callbacks: Any,
) -> None:
    it = Department.objects.get(organization=channel.organization, slug="it")
    polled = tickets.add_destination(it, "jira", jira_settings(fake, poll=True), by=owner)
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    polled.refresh_from_db()
    polled.cursor = (timezone.now() - timedelta(minutes=29, seconds=30)).isoformat()
    polled.save()
    jira.comment("IT-42", "Looking at it now.")
    jira.transition("IT-42", "Done", "Done")

    report = tick(NOW + timedelta(minutes=5))

    assert report.tracker_updates == 2
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.FIXED
    assert Note.objects.get().text == "Jo Dev on Jira IT-42: Looking at it now."
    [asked] = [s for s in fake.seen if s.path == f"{API}/search/jql"]
    assert asked.arg("jql") == 'project = "IT" AND updated >= -31m ORDER BY updated'
    assert asked.query["fields"] == ["status", "resolution", "comment"]
    # Nothing new since: the next poll adds no note and no step twice.
    assert tick(NOW + timedelta(minutes=10)).tracker_updates == 0
    assert Note.objects.count() == 1
    assert Event.objects.filter(verb="handoff.fixed").count() == 1


def test_data_center_polls_the_classic_search_with_a_personal_access_token(
    channel: Any,
    owner: Any,
    fake: FakeServer,
    jira: FakeJira,
    django_capture_on_commit_callbacks: Any,
) -> None:
    it = Department.objects.get(organization=channel.organization, slug="it")
    polled = tickets.add_destination(it, "jira", jira_settings(fake, email="", poll=True), by=owner)
    handoff = hand_to_it(
        complain(channel, "c1", "It crashes"), owner, django_capture_on_commit_callbacks
    )
    polled.refresh_from_db()
    polled.cursor = (timezone.now() - timedelta(minutes=5)).isoformat()
    polled.save()
    jira.transition("IT-42", "In Progress")

    assert tick(NOW + timedelta(minutes=5)).tracker_updates == 1

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.IN_PROGRESS
    assert fake.seen[0].headers["authorization"] == f"Bearer {API_TOKEN}"
    assert [s.path for s in fake.seen if "search" in s.path] == [f"{API}/search"]


def test_the_round_trip_from_a_tweet_to_jira_and_back_to_the_customer(
    org: Any,
    owner: Any,
    client: Client,
    fake: FakeServer,
    jira: FakeJira,
    it_jira: Destination,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversation, tweets = tweeting_customer(org, fake)

    handoff = hand_to_it(conversation, owner, django_capture_on_commit_callbacks)
    [issue] = jira.issues.values()
    assert "{noformat}\n[handle] your app crashes every time" in issue["fields"]["description"]
    assert "product_bug" in issue["fields"]["labels"]
    done = post_hook(client, it_jira, jira.transition("IT-42", "Done", "Done"))
    assert done.json() == {"applied": 1}
    handoff.refresh_from_db()
    report_back_on_x(org, owner, client, handoff, tweets, django_capture_on_commit_callbacks)
