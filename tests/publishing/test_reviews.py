"""A trainee's post waits for a reviewer: flagged by the tone guard, sent back with a
comment, rewritten, approved, then sent as the trainee asked; each step in the event log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from earful.channels.models import Channel
from earful.org.models import Event, Membership, Role
from earful.org.services import add_member, set_training
from earful.publishing.models import PostState
from earful.publishing.reviews import approve_post, send_back_post
from earful.publishing.services import PublishError, publish_due, save_draft, schedule
from tests.publishing.conftest import NOW
from tests.publishing.fake_mastodon import FakeMastodon

HOSTILE = "If your bag got lost that's your own fault, you should have read the FAQ."
KIND = "Lost a bag with us? Here is how to find it fastest, and we are here to help."


def test_a_trainees_post_is_reviewed_sent_back_rewritten_approved_and_sent(
    client: Client,
    org: Any,
    agent: Membership,
    manager: Membership,
    mastodon: Channel,
    instance: FakeMastodon,
    django_capture_on_commit_callbacks: Any,
) -> None:
    reviewer = add_member(org, "rita@acme.example", role=Role.AGENT)
    set_training(agent, in_training=True, reviewer=reviewer, actor=manager.user)
    agent.refresh_from_db()

    post = save_draft(agent, HOSTILE, [mastodon])
    schedule(agent, post, NOW + timedelta(hours=1), now=NOW)
    assert post.state == PostState.REVIEW
    assert publish_due(NOW + timedelta(hours=2)) == 0  # a post in review is never due

    client.force_login(reviewer.user)
    page = client.get(f"/o/acme/publish/{post.code}/").content.decode()
    assert "Waiting for a reviewer" in page and "customer_blaming" in page
    assert 'class="approve"' in page

    with pytest.raises(PublishError, match="reviewer or a manager"):
        approve_post(agent, post, now=NOW)
    send_back_post(reviewer, post, "Never blame the customer; offer help instead")
    assert post.state == PostState.DRAFT

    post = save_draft(agent, KIND, [mastodon], post=post)
    schedule(agent, post, NOW + timedelta(hours=1), now=NOW)
    assert post.state == PostState.REVIEW
    approve_post(reviewer, post, now=NOW)
    assert post.state == PostState.SCHEDULED

    with django_capture_on_commit_callbacks(execute=True):
        publish_due(NOW + timedelta(hours=1, minutes=1))
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED
    assert [s["content"] for s in instance.created] == [f"<p>{KIND}</p>"]
    verbs = list(Event.objects.filter(target_id=str(post.code)).values_list("verb", flat=True))
    assert verbs == [
        "post.drafted",
        "post.submitted",
        "post.sent_back",
        "post.edited",
        "post.submitted",
        "post.approved",
        "post.publishing",
        "post.published",
    ]


def test_a_manager_edits_while_approving_and_another_agent_may_not_review(
    org: Any, agent: Membership, manager: Membership, mastodon: Channel, instance: FakeMastodon
) -> None:
    set_training(agent, in_training=True, actor=manager.user)
    agent.refresh_from_db()
    bystander = add_member(org, "bo@acme.example", role=Role.AGENT)
    post = save_draft(agent, HOSTILE, [mastodon])
    schedule(agent, post, NOW + timedelta(hours=1), now=NOW)

    with pytest.raises(PublishError):
        approve_post(bystander, post, now=NOW)
    with pytest.raises(PublishError, match="say what"):
        send_back_post(manager, post, "")
    approve_post(manager, post, now=NOW, text=KIND)

    assert (post.state, post.text) == (PostState.SCHEDULED, KIND)
    event = Event.objects.get(verb="post.approved", target_id=str(post.code))
    assert event.before == {"text": HOSTILE} and event.after is not None and event.after["edited"]
