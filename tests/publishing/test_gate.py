"""The listen-first gate: each rule holds a post, lets it go when cleared, and yields to a
manager's override with a reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from earful.channels.models import Channel
from earful.channels.services import set_channel_enabled
from earful.conversations.models import Direction, Message, MessageKind
from earful.inbox.replies import send_reply_to_customer
from earful.insights.models import Alert, AlertKind
from earful.insights.services import save_settings
from earful.org.models import Event, Membership
from earful.publishing.models import Post, PostState
from earful.publishing.services import (
    PublishError,
    override_hold,
    publish_due,
    publish_now,
    save_draft,
    save_gate_settings,
    schedule,
)
from tests.publishing.conftest import NOW, complain, minutes_ago
from tests.publishing.fake_mastodon import FakeMastodon

ENGAGING = "What should we name the new lounge in Porto? Tell us below"
PROMOTIONAL = "Flash sale: 30% off every flight to Porto, use code PORTO30"


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the deliveries a service puts on commit, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def go(member: Membership, channel: Channel, text: str, run_on_commit: Any) -> Post:
    post = save_draft(member, text, [channel])
    with run_on_commit():
        publish_now(member, post, now=NOW)
    post.refresh_from_db()
    return post


def test_a_post_goes_out_once_when_nothing_waits(
    manager: Membership, mastodon: Channel, instance: FakeMastodon, run_on_commit: Any
) -> None:
    post = go(manager, mastodon, ENGAGING, run_on_commit)

    assert post.state == PostState.PUBLISHED
    assert [s["content"] for s in instance.created] == [f"<p>{ENGAGING}</p>"]
    message = Message.objects.get(post_target__post=post)
    assert (message.direction, message.kind, message.parent) == (Direction.OUT, "post", None)
    assert message.external_id == instance.created[0]["id"]
    verbs = list(Event.objects.filter(target_id=str(post.code)).values_list("verb", flat=True))
    assert verbs == ["post.drafted", "post.publishing", "post.published"]


def test_a_complaint_waiting_past_the_threshold_holds_the_post(
    manager: Membership, mastodon: Channel, instance: FakeMastodon, run_on_commit: Any
) -> None:
    waiting = complain(mastodon, "901", minutes_ago(90))
    assert waiting.waiting_since is not None

    post = go(manager, mastodon, ENGAGING, run_on_commit)

    assert post.state == PostState.HELD
    assert instance.created == []
    [reason] = post.hold_reasons
    assert reason["rule"] == "unanswered" and reason["channel"] == "Mastodon"
    assert reason["links"] == [[f"#{waiting.number}", f"/o/acme/c/{waiting.number}/"]]
    assert Event.objects.filter(verb="post.held", target_id=str(post.code)).count() == 1


def test_a_young_complaint_or_one_on_another_channel_does_not_hold(
    channel: Channel,
    manager: Membership,
    mastodon: Channel,
    instance: FakeMastodon,
    run_on_commit: Any,
) -> None:
    complain(mastodon, "902", minutes_ago(30))
    complain(channel, "903", minutes_ago(600))

    assert go(manager, mastodon, ENGAGING, run_on_commit).state == PostState.PUBLISHED


def test_the_threshold_is_the_organizations(
    manager: Membership, mastodon: Channel, instance: FakeMastodon, run_on_commit: Any
) -> None:
    complain(mastodon, "904", minutes_ago(90))
    save_gate_settings(manager, unanswered_minutes=120)

    assert go(manager, mastodon, ENGAGING, run_on_commit).state == PostState.PUBLISHED


def test_a_held_post_goes_out_by_itself_once_the_complaint_is_answered(
    manager: Membership,
    agent: Membership,
    mastodon: Channel,
    instance: FakeMastodon,
    run_on_commit: Any,
) -> None:
    waiting = complain(mastodon, "905", minutes_ago(90))
    post = save_draft(manager, ENGAGING, [mastodon])
    schedule(manager, post, NOW + timedelta(minutes=5), now=NOW)
    assert publish_due(NOW) == 0  # not yet due

    later = NOW + timedelta(minutes=6)
    with run_on_commit():
        publish_due(later)
    post.refresh_from_db()
    assert post.state == PostState.HELD

    with run_on_commit():
        send_reply_to_customer(
            waiting, "So sorry, rebooked you on the 14:05", by=agent.user, now=later
        )
        publish_due(later + timedelta(minutes=1))
        publish_due(later + timedelta(minutes=2))
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED
    posts = [s for s in instance.created if s["in_reply_to_id"] is None]
    assert len(posts) == 1


def test_a_recent_spike_alert_holds_the_post_and_an_old_one_does_not(
    org: Any, manager: Membership, mastodon: Channel, instance: FakeMastodon, run_on_commit: Any
) -> None:
    Alert.objects.create(
        organization=org,
        kind=AlertKind.NEGATIVITY,
        key="old",
        summary="Old spike",
        created_at=NOW - timedelta(hours=7),
    )
    assert go(manager, mastodon, ENGAGING, run_on_commit).state == PostState.PUBLISHED

    Alert.objects.create(
        organization=org,
        kind=AlertKind.VOLUME,
        key="new",
        summary="Volume 5x usual",
        created_at=NOW - timedelta(hours=1),
    )
    held = go(manager, mastodon, ENGAGING + "!", run_on_commit)
    assert held.state == PostState.HELD
    assert [r["rule"] for r in held.hold_reasons] == ["alert"]
    assert "Volume 5x usual" in held.hold_reasons[0]["text"]


def test_a_promotional_post_over_the_limit_is_held_counting_itself(
    org: Any, manager: Membership, mastodon: Channel, instance: FakeMastodon, run_on_commit: Any
) -> None:
    for n in range(3):
        assert go(manager, mastodon, f"{ENGAGING} ({n})", run_on_commit).state == "published"
    # 1 of 4 posts would be promotional: 25 % is over the default 20 %.
    held = go(manager, mastodon, PROMOTIONAL, run_on_commit)
    assert held.state == PostState.HELD
    assert held.hold_reasons[0]["rule"] == "promotion"
    assert "1 of 4" in held.hold_reasons[0]["text"]

    # The limit is the insights' promote-last threshold.
    save_settings(org, by=manager.user, promo_threshold=0.30)
    with run_on_commit():
        publish_due(NOW + timedelta(minutes=1))
    held.refresh_from_db()
    assert held.state == PostState.PUBLISHED


def test_a_manager_overrides_a_hold_with_a_reason_in_the_event_log(
    manager: Membership,
    agent: Membership,
    mastodon: Channel,
    instance: FakeMastodon,
    run_on_commit: Any,
) -> None:
    complain(mastodon, "906", minutes_ago(90))
    post = go(manager, mastodon, ENGAGING, run_on_commit)
    assert post.state == PostState.HELD

    with pytest.raises(PublishError, match="only managers"):
        override_hold(agent, post, "launch day", now=NOW)
    with pytest.raises(PublishError, match="say why"):
        override_hold(manager, post, "  ", now=NOW)
    with run_on_commit():
        override_hold(manager, post, "the storm notice cannot wait", now=NOW)

    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED and len(instance.created) == 1
    event = Event.objects.get(verb="post.overridden", target_id=str(post.code))
    assert event.actor == manager.user
    assert event.after == {"reason": "the storm notice cannot wait"}
    assert event.before is not None and event.before["hold_reasons"][0]["rule"] == "unanswered"


def test_a_check_can_be_switched_off(
    manager: Membership, mastodon: Channel, instance: FakeMastodon, run_on_commit: Any
) -> None:
    complain(mastodon, "907", minutes_ago(90))
    save_gate_settings(manager, check_unanswered=False)

    assert go(manager, mastodon, ENGAGING, run_on_commit).state == PostState.PUBLISHED
    assert Message.objects.filter(kind=MessageKind.POST, direction=Direction.OUT).count() == 1


def test_a_post_whose_channel_was_switched_off_is_held_until_it_is_back(
    manager: Membership, mastodon: Channel, instance: FakeMastodon, run_on_commit: Any
) -> None:
    post = save_draft(manager, ENGAGING, [mastodon])
    schedule(manager, post, NOW + timedelta(minutes=5), now=NOW)
    set_channel_enabled(mastodon, False, actor=manager.user)

    publish_due(NOW + timedelta(minutes=6))
    post.refresh_from_db()
    assert post.state == PostState.HELD
    assert post.hold_reasons[0]["rule"] == "channel"
    assert "can no longer post to Mastodon" in post.hold_reasons[0]["text"]

    set_channel_enabled(mastodon, True, actor=manager.user)
    with run_on_commit():
        publish_due(NOW + timedelta(minutes=7))
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED and len(instance.created) == 1
