"""A trainee's replies are held for review: approved, edited, or sent back and rewritten."""

from __future__ import annotations

from typing import Any

import pytest

from earful.conversations.models import Conversation, Direction, HandoffStatus
from earful.inbox import handoffs
from earful.inbox.canned import save_canned_reply
from earful.inbox.models import OutboxItem, OutboxStatus
from earful.inbox.outbox import deliver
from earful.inbox.playbooks import run_playbook
from earful.inbox.replies import ReplyHeldError, send_reply_to_customer
from earful.inbox.review_models import DraftStatus, ReplyDraft
from earful.inbox.reviews import (
    ReviewError,
    approve,
    change_training,
    resubmit,
    review_queue,
    send_back,
    team,
)
from earful.org.models import Department, Event, Membership, Role
from earful.org.services import OrgError, add_member, set_training
from earful.org.training import needs_approval, reviewers_for
from tests.inbox.conftest import NOW
from tests.inbox.test_outbox import Collecting, email_complaint, smtp  # noqa: F401

HOSTILE = "That's your own fault, you should have read the manual. Stop complaining."
REWRITE = "I'm sorry the router keeps dropping. Could you try a restart while we check the line?"


@pytest.fixture
def manager(org: Any) -> Membership:
    return Membership.objects.get(organization=org, user__username="owner@acme.example")


@pytest.fixture
def trainee(org: Any) -> Membership:
    member = add_member(org, "tia@acme.example", role=Role.AGENT, password="pw-tia-12345")
    return set_training(member, in_training=True)


def hold(conversation: Conversation, trainee: Membership, text: str) -> ReplyDraft:
    with pytest.raises(ReplyHeldError) as held:
        send_reply_to_customer(conversation, text, by=trainee.user, now=NOW)
    return held.value.draft


def verbs(org: Any) -> list[str]:
    return list(
        Event.objects.filter(organization=org, verb__startswith="reply.")
        .order_by("at", "pk")
        .values_list("verb", flat=True)
    )


def test_a_hostile_draft_is_flagged_held_sent_back_rewritten_and_approved(
    org: Any, complaint: Conversation, trainee: Membership, manager: Membership
) -> None:
    draft = hold(complaint, trainee, HOSTILE)

    assert draft.status == DraftStatus.HELD
    assert {f["category"] for f in draft.tone_flags} >= {"customer_blaming", "hostile"}
    assert draft.tone_suggestion
    assert not complaint.messages.filter(direction=Direction.OUT).exists()
    assert list(review_queue(manager)) == [draft]

    send_back(draft, by=manager, comment="Don't blame them; offer a next step.", now=NOW)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.SENT_BACK and draft.times_sent_back == 1
    assert list(review_queue(manager)) == []

    resubmit(draft, by=trainee, text=REWRITE, now=NOW)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.HELD and draft.tone_flags == []

    approve(draft, by=manager, now=NOW)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.APPROVED and not draft.edited_by_reviewer
    (sent,) = complaint.messages.filter(direction=Direction.OUT)
    assert sent == draft.message and sent.text.startswith(REWRITE)
    assert sent.sent_by == trainee.user and draft.reviewed_by == manager.user

    assert verbs(org) == ["reply.held", "reply.sent_back", "reply.resubmitted", "reply.approved"]
    replied = Event.objects.get(organization=org, verb="conversation.replied")
    assert replied.actor == trainee.user
    assert replied.after is not None and replied.after["approved_by"] == "owner@acme.example"
    held = Event.objects.get(organization=org, verb="reply.held")
    assert held.actor == trainee.user and "customer_blaming" in (held.after or {})["flags"]


def test_a_reply_from_someone_not_in_training_is_sent_at_once(
    complaint: Conversation, teammate: Membership
) -> None:
    assert not needs_approval(teammate)
    message = send_reply_to_customer(complaint, "On it.", by=teammate.user, now=NOW)
    assert message.direction == Direction.OUT
    assert not ReplyDraft.objects.exists()


def test_only_the_named_reviewer_or_a_manager_may_review(
    org: Any,
    complaint: Conversation,
    trainee: Membership,
    teammate: Membership,
    manager: Membership,
) -> None:
    draft = hold(complaint, trainee, "We'll look into it.")
    colleague = add_member(org, "cole@acme.example", role=Role.AGENT)

    assert list(reviewers_for(trainee)) == [manager]
    for outsider in (teammate, trainee):
        with pytest.raises(ReviewError):
            approve(draft, by=outsider, now=NOW)
    with pytest.raises(ReviewError):
        send_back(draft, by=teammate, comment="no", now=NOW)

    set_training(trainee, in_training=True, reviewer=teammate)
    assert list(reviewers_for(trainee)) == [teammate]
    assert list(review_queue(teammate)) == [draft]
    assert list(review_queue(colleague)) == []
    with pytest.raises(ReviewError):
        approve(draft, by=colleague, now=NOW)
    approve(draft, by=teammate, now=NOW)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.APPROVED and draft.reviewed_by == teammate.user


def test_only_the_author_resubmits_and_a_send_back_needs_a_comment(
    complaint: Conversation, trainee: Membership, manager: Membership, teammate: Membership
) -> None:
    draft = hold(complaint, trainee, HOSTILE)
    with pytest.raises(ReviewError):
        send_back(draft, by=manager, comment="  ", now=NOW)
    send_back(draft, by=manager, comment="Kinder, please.", now=NOW)
    with pytest.raises(ReviewError):
        resubmit(draft, by=teammate, text=REWRITE, now=NOW)
    with pytest.raises(ReviewError):
        approve(draft, by=manager, now=NOW)  # it is with the trainee, not held


def test_an_edited_approval_sends_the_reviewers_text_once_through_the_outbox(
    org: Any,
    trainee: Membership,
    manager: Membership,
    smtp: tuple[int, Collecting],  # noqa: F811
) -> None:
    conversation = email_complaint(org, smtp[0])
    draft = hold(conversation, trainee, HOSTILE)

    approve(draft, by=manager, now=NOW, text="We're sorry: we fixed the bill.")
    with pytest.raises(ReviewError):
        approve(draft, by=manager, now=NOW)

    (item,) = OutboxItem.objects.filter(message__conversation=conversation)
    assert deliver(item.pk, NOW) is not None
    assert deliver(item.pk, NOW) is None
    item.refresh_from_db()
    assert item.status == OutboxStatus.SENT
    assert len(smtp[1].received) == 1
    assert b"we fixed the bill." in smtp[1].received[0]
    assert b"own fault" not in smtp[1].received[0]
    draft.refresh_from_db()
    assert draft.edited_by_reviewer and draft.tone_flags == []


def test_the_team_counts_drafts_first_time_approvals_and_send_backs(
    org: Any, channel: Any, trainee: Membership, manager: Membership
) -> None:
    from tests.inbox.conftest import complain

    first = hold(complain(channel, "t1", "Where is my order?", "cust-a"), trainee, "On its way.")
    approve(first, by=manager, now=NOW)
    second = hold(complain(channel, "t2", "Refund?", "cust-b"), trainee, HOSTILE)
    send_back(second, by=manager, comment="No.", now=NOW)
    resubmit(second, by=trainee, text="Still " + HOSTILE, now=NOW)
    send_back(second, by=manager, comment="Still no.", now=NOW)
    resubmit(second, by=trainee, text=REWRITE, now=NOW)
    approve(second, by=manager, now=NOW)
    hold(complain(channel, "t3", "Hello?", "cust-c"), trainee, "Hi!")

    rows = {row.membership.user.email: row for row in team(org)}
    tia = rows["tia@acme.example"]
    assert (tia.drafts, tia.approved_first_time, tia.sent_back, tia.waiting) == (3, 1, 2, 1)
    assert rows["owner@acme.example"].drafts == 0


def test_managers_alone_put_staff_in_training_and_it_is_recorded(
    org: Any, teammate: Membership, manager: Membership, other_org: Any
) -> None:
    with pytest.raises(ReviewError):
        change_training(manager, by=teammate, in_training=True)
    change_training(teammate, by=manager, in_training=True, reviewer=manager)
    teammate.refresh_from_db()
    assert teammate.in_training and teammate.reviewer == manager.user
    event = Event.objects.get(organization=org, verb="membership.training_set")
    assert event.actor == manager.user
    assert event.after == {
        "email": "teammate@acme.example",
        "in_training": True,
        "reviewer": "owner@acme.example",
    }
    foreign = Membership.objects.get(organization=other_org)
    with pytest.raises(OrgError):
        set_training(teammate, in_training=True, reviewer=foreign)
    with pytest.raises(OrgError):
        set_training(teammate, in_training=True, reviewer=teammate)


def test_the_pages_hold_a_reply_show_the_comment_and_count_on_the_team_page(
    client: Any, complaint: Conversation, trainee: Membership, manager: Membership
) -> None:
    page = f"/o/acme/c/{complaint.number}/"
    client.force_login(trainee.user)
    client.post(f"{page}reply/", {"text": "<b>Not our problem</b>"})
    shown = client.get(page).content.decode()
    assert "Held for review" in shown and "&lt;b&gt;Not our problem&lt;/b&gt;" in shown
    draft = ReplyDraft.objects.get()

    client.force_login(manager.user)
    queue = client.get("/o/acme/reviews/").content.decode()
    assert f"draft-{draft.code}" in queue and "defensive" in queue
    client.post(f"/o/acme/reviews/{draft.code}/send-back/", {"comment": "Offer <help>."})

    client.force_login(trainee.user)
    shown = client.get(page).content.decode()
    assert "Offer &lt;help&gt;." in shown and "Resubmit for review" in shown
    client.post(f"/o/acme/reviews/{draft.code}/resubmit/", {"text": REWRITE})

    client.force_login(manager.user)
    client.post(f"/o/acme/reviews/{draft.code}/approve/", {"text": REWRITE})
    draft.refresh_from_db()
    assert draft.status == DraftStatus.APPROVED and not draft.edited_by_reviewer
    team_page = client.get("/o/acme/team/").content.decode()
    assert 'data-member="tia@acme.example"' in team_page
    row = team_page.split('data-member="tia@acme.example"')[1].split("</tr>")[0]
    assert '<td class="drafts">1</td>' in row and '<td class="sent-back">1</td>' in row
    assert '<td class="first-time">0</td>' in row


def test_the_team_page_changes_training_for_managers_only(
    client: Any, teammate: Membership, manager: Membership
) -> None:
    client.force_login(teammate.user)
    client.post("/o/acme/team/training/", {"member": "owner@acme.example", "in_training": "on"})
    manager.refresh_from_db()
    assert not manager.in_training
    assert b"Save</button>" not in client.get("/o/acme/team/").content

    client.force_login(manager.user)
    form = {"member": "teammate@acme.example", "in_training": "on", "reviewer": ""}
    client.post("/o/acme/team/training/", form)
    teammate.refresh_from_db()
    assert teammate.in_training and teammate.reviewer is None


def test_the_api_answers_a_held_reply_with_202_and_reviews_it(
    client: Any, complaint: Conversation, trainee: Membership, manager: Membership
) -> None:
    client.force_login(trainee.user)
    answer = client.post(
        f"/api/v1/orgs/acme/conversations/{complaint.number}/reply",
        {"text": "Whatever."},
        content_type="application/json",
    )
    assert answer.status_code == 202
    code = answer.json()["draft"]
    refused = client.post(
        f"/api/v1/orgs/acme/reviews/{code}/approve", {}, content_type="application/json"
    )
    assert refused.status_code == 400

    client.force_login(manager.user)
    (queued,) = client.get("/api/v1/orgs/acme/reviews").json()
    assert queued["code"] == code and queued["tone_flags"][0]["category"] == "hostile"
    approved = client.post(
        f"/api/v1/orgs/acme/reviews/{code}/approve",
        {"text": "We're on it."},
        content_type="application/json",
    ).json()
    assert approved["status"] == "approved" and approved["message"]
    (tia,) = [
        m for m in client.get("/api/v1/orgs/acme/team").json() if m["email"] == "tia@acme.example"
    ]
    assert (tia["drafts"], tia["approved_first_time"], tia["in_training"]) == (1, 0, True)
    changed = client.post(
        "/api/v1/orgs/acme/team/training",
        {"member": "tia@acme.example", "in_training": False},
        content_type="application/json",
    ).json()
    assert changed["in_training"] is False


def test_approving_the_text_as_a_browser_sends_it_back_is_not_an_edit(
    complaint: Conversation, trainee: Membership, manager: Membership
) -> None:
    draft = hold(complaint, trainee, "Thanks for waiting.\nWe're on it.")
    approve(draft, by=manager, now=NOW, text="Thanks for waiting.\r\nWe're on it.\r\n")
    draft.refresh_from_db()
    assert not draft.edited_by_reviewer and draft.text == "Thanks for waiting.\nWe're on it."


def test_a_trainees_report_back_is_held_and_its_approval_tells_the_hand_off(
    org: Any, complaint: Conversation, trainee: Membership, manager: Membership
) -> None:
    it = Department.objects.get(organization=org, slug="it")
    handoff = handoffs.hand_off(complaint, it, "Router?", by=manager.user, now=NOW)
    handoffs.mark_fixed(handoff, "Firmware 2.1", by=manager.user, now=NOW)

    with pytest.raises(ReplyHeldError) as held:
        handoffs.report_back(handoff, "It's fixed now.", by=trainee.user, now=NOW)
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.FIXED
    draft = ReplyDraft.objects.get(pk=held.value.draft.pk)
    assert draft.handoff == handoff and draft.status == DraftStatus.HELD

    approve(draft, by=manager, now=NOW)

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.REPORTED_BACK
    assert handoff.reported_back_message is not None
    assert handoff.reported_back_message.text.startswith("It's fixed now.")
    assert Event.objects.filter(verb="handoff.reported_back").count() == 1


def test_a_trainees_playbook_runs_its_actions_and_holds_its_reply(
    org: Any, complaint: Conversation, trainee: Membership, manager: Membership
) -> None:
    it = Department.objects.get(organization=org, slug="it")
    playbook = save_canned_reply(
        org, "Escalate", "Passing this to IT.", by=manager.user, handoff_to=it
    )

    with pytest.raises(ReplyHeldError):
        run_playbook(complaint, playbook, by=trainee.user, now=NOW)

    assert complaint.handoffs.get().to_department == it
    assert ReplyDraft.objects.get().text == "Passing this to IT."
    assert not complaint.messages.filter(direction=Direction.OUT).exists()
    run = Event.objects.get(verb="playbook.run")
    assert run.after["reply"] is None and run.after["held"] == str(ReplyDraft.objects.get().code)


def test_the_page_says_a_held_reply_is_held_not_refused(
    complaint: Conversation, trainee: Membership, client: Any
) -> None:
    client.force_login(trainee.user)

    page = client.post(
        f"/o/acme/c/{complaint.number}/reply/", {"text": REWRITE}, follow=True
    ).content.decode()

    assert '<li class="info" role="status">Your reply is held for review' in page
    assert ReplyDraft.objects.get().text == REWRITE
