"""A post is sent once: retried after a 503, re-sent after a crash with the same key, and
the customers' replies to it thread under it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from earful.channels.connector import OutgoingReply
from earful.channels.models import Channel
from earful.channels.outgoing import send_reply
from earful.channels.services import create_channel
from earful.conversations.models import Direction, JoinRule, Message
from earful.errors import DomainError
from earful.inbox.models import OutboxItem, OutboxStatus
from earful.inbox.outbox import STALE_CLAIM, deliver_due
from earful.org.models import Event, Membership
from earful.publishing.attachments import attach_media
from earful.publishing.models import Post, PostState
from earful.publishing.services import attempt, publish_due, publish_now, save_draft, schedule
from tests.channels.fakes import Seen
from tests.publishing.conftest import NOW, complain
from tests.publishing.fake_mastodon import FakeMastodon
from tests.publishing.tenancy_values import PIXEL

TEXT = "Our new Porto lounge opens Monday: what would you like to find there?"


def published(post: Post) -> Message:
    return Message.objects.get(post_target__post=post)


def test_a_503_is_retried_and_the_post_goes_out_once(
    manager: Membership, mastodon: Channel, instance: FakeMastodon
) -> None:
    instance.fail_next = [503]
    post = save_draft(manager, TEXT, [mastodon])
    publish_now(manager, post, now=NOW)
    assert deliver_due(NOW) == 1
    item = OutboxItem.objects.get(message=published(post))
    assert (item.status, item.attempts) == (OutboxStatus.PENDING, 1)
    assert item.last_error  # the failure is visible until the retry succeeds
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHING

    later = NOW + timedelta(minutes=1)
    assert deliver_due(later) == 1
    publish_due(later)
    assert deliver_due(later + timedelta(hours=1)) == 0

    post.refresh_from_db()
    item.refresh_from_db()
    assert item.last_error == ""
    assert post.state == PostState.PUBLISHED
    assert (item.status, item.attempts) == (OutboxStatus.SENT, 2)
    assert len(instance.created) == 1
    assert published(post).external_id == instance.created[0]["id"]
    sends = instance.server.requests_to("/api/v1/statuses")
    assert [s.headers["idempotency-key"] for s in sends] == [item.idempotency_key] * 2
    verbs = Event.objects.filter(target_id=str(published(post).code)).values_list("verb", flat=True)
    assert list(verbs) == ["outbox.failed", "outbox.sent"]


def test_a_crash_between_claim_and_write_resends_with_the_same_key_and_posts_once(
    manager: Membership, mastodon: Channel, instance: FakeMastodon
) -> None:
    # No commit hooks run: the worker that claimed the item dies before writing the outcome.
    post = save_draft(manager, TEXT, [mastodon])
    publish_now(manager, post, now=NOW)
    item = OutboxItem.objects.get(message=published(post))
    OutboxItem.objects.filter(pk=item.pk).update(
        status=OutboxStatus.SENDING, claimed_at=NOW, attempts=1
    )
    # Its send had reached the platform: the status exists there under the item's key.
    sent_before = send_reply(
        mastodon, OutgoingReply(text=TEXT, idempotency_key=item.idempotency_key)
    )

    assert deliver_due(NOW + timedelta(minutes=1)) == 0  # a fresh claim is left alone
    after_restart = NOW + STALE_CLAIM + timedelta(minutes=1)
    assert deliver_due(after_restart) == 1
    publish_due(after_restart)

    item.refresh_from_db()
    post.refresh_from_db()
    assert (item.status, item.provider_id) == (OutboxStatus.SENT, sent_before)
    assert post.state == PostState.PUBLISHED
    assert len(instance.created) == 1
    assert published(post).external_id == sent_before
    assert deliver_due(after_restart + timedelta(hours=1)) == 0


def test_two_ticks_at_once_publish_a_post_once(
    manager: Membership, mastodon: Channel, instance: FakeMastodon
) -> None:
    post = save_draft(manager, TEXT, [mastodon])
    schedule(manager, post, NOW + timedelta(minutes=1), now=NOW)
    due = NOW + timedelta(minutes=2)
    stale = Post.objects.get(pk=post.pk)  # what a second tick read before the first moved on
    attempt(post, due)
    attempt(stale, due)
    assert Message.objects.filter(direction=Direction.OUT).count() == 1
    assert OutboxItem.objects.count() == 1


def test_a_reply_to_the_post_threads_under_it(
    manager: Membership,
    mastodon: Channel,
    instance: FakeMastodon,
    django_capture_on_commit_callbacks: Any,
) -> None:
    post = save_draft(manager, TEXT, [mastodon])
    with django_capture_on_commit_callbacks(execute=True):
        publish_now(manager, post, now=NOW)
    ours = published(post)

    conversation = complain(
        mastodon,
        "113700000000000001",
        NOW + timedelta(minutes=5),
        "A quiet corner to work please!",
        in_reply_to=ours.external_id,
    )

    reply = Message.objects.get(external_id="113700000000000001")
    assert reply.parent == ours
    assert reply.join_rule == JoinRule.REPLY
    assert reply.conversation == conversation


def test_a_post_to_two_channels_goes_to_each_once_as_a_new_post(
    org: Any,
    manager: Membership,
    mastodon: Channel,
    instance: FakeMastodon,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def create_tweet(seen: Seen) -> tuple[int, dict[str, str], Any]:
        # POST /2/tweets answers 201 with the new post's id and text (X API v2 docs).
        return 201, {}, {"data": {"id": "1860000000000000001", "text": seen.json()["text"]}}

    instance.server.route("POST", "/2/tweets", create_tweet)
    x = create_channel(
        org,
        name="X",
        kind="x",
        settings={
            "bearer_token": "bearer-123456",
            "consumer_key": "ck-123456",
            "consumer_secret": "cs-123456",
            "access_token": "at-123456",
            "access_token_secret": "ats-123456",
            "api_base": instance.server.url,
        },
    )
    post = save_draft(manager, TEXT, [mastodon, x], overrides={str(x.code): "Porto lounge: ideas?"})
    with django_capture_on_commit_callbacks(execute=True):
        publish_now(manager, post, now=NOW)

    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED
    [tweet] = instance.server.requests_to("/2/tweets")
    assert tweet.json() == {"text": "Porto lounge: ideas?"}  # a new post: no reply field
    assert len(instance.created) == 1 and instance.created[0]["in_reply_to_id"] is None
    ids = set(Message.objects.filter(post_target__post=post).values_list("external_id", flat=True))
    assert ids == {"1860000000000000001", instance.created[0]["id"]}


def test_a_posts_image_is_uploaded_and_attached_on_mastodon(
    manager: Membership, mastodon: Channel, instance: FakeMastodon
) -> None:
    post = save_draft(manager, TEXT, [mastodon])
    attach_media(manager, post, SimpleUploadedFile("lounge.png", PIXEL), "The new lounge")

    publish_now(manager, post, now=NOW)
    deliver_due(NOW)

    item = OutboxItem.objects.get(message=published(post))
    assert item.last_error == ""
    [upload] = instance.uploads
    assert PIXEL in upload.body and b"The new lounge" in upload.body
    [status] = instance.created
    assert [m["id"] for m in status["media_attachments"]] == ["109900000000000001"]
    assert OutboxItem.objects.get(message=published(post)).status == OutboxStatus.SENT


def test_media_to_a_channel_that_takes_text_only_is_refused_with_the_reason(
    org: Any, manager: Membership, instance: FakeMastodon
) -> None:
    x = create_channel(
        org,
        name="X",
        kind="x",
        settings={"bearer_token": "AAAAAAAAAAAAAAAAAAAAAbearer", "api_base": instance.server.url},
    )
    post = save_draft(manager, TEXT, [x])
    attach_media(manager, post, SimpleUploadedFile("lounge.png", PIXEL), "")

    with pytest.raises(DomainError, match="X: earful posts text only there"):
        publish_now(manager, post, now=NOW)
    assert not OutboxItem.objects.exists()
