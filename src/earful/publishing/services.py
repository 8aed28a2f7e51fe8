"""Every write of publishing, each with its audit event: drafts, schedules, holds, overrides.

A post goes out through the inbox's outbox, the same one replies take: one outbound
message per channel (direction out, no parent, kind post), sent once with an idempotency
key, retried with backoff, a dead letter when it keeps failing. The platform's id is written
back to the message, so customers' replies to the post thread under it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from earful.channels.connector import Attachment
from earful.channels.models import Channel
from earful.conversations.models import Direction, Message, MessageKind, Visibility
from earful.errors import DomainError
from earful.inbox.models import OutboxItem, OutboxStatus
from earful.inbox.outbox import enqueue
from earful.org.events import record_event
from earful.org.models import Membership, Role
from earful.org.training import needs_approval, reviewers_for
from earful.publishing import gate
from earful.publishing.limits import can_publish, takes_media, too_long
from earful.publishing.models import (
    OPEN_STATES,
    Post,
    PostState,
    PostTarget,
    PublishSettings,
)

COMPOSERS = (Role.ADMIN, Role.MANAGER, Role.AGENT)
MANAGERS = (Role.ADMIN, Role.MANAGER)
MAX_TEXT = 10_000
GATE_FIELDS = (
    "unanswered_minutes",
    "alert_hours",
    "check_unanswered",
    "check_alerts",
    "check_promotion",
)
# Outbox outcomes after which a channel's copy of the post is out (or recorded) for good.
DONE = (OutboxStatus.SENT, OutboxStatus.RECORDED)


class PublishError(DomainError):
    """A post that cannot be saved, scheduled or published as asked, with the reason."""


def may_compose(member: Membership) -> None:
    if member.role not in COMPOSERS:
        raise PublishError("only agents, managers and admins write the brand's posts")


def check_open(post: Post) -> None:
    if post.state not in OPEN_STATES:
        raise PublishError(f"this post is {post.get_state_display().lower()}; it cannot change")


def _targets(post: Post) -> list[PostTarget]:
    return list(post.targets.select_related("channel").order_by("channel__name", "pk"))


@transaction.atomic
def save_draft(
    member: Membership,
    text: str,
    channels: list[Channel],
    *,
    overrides: dict[str, str] | None = None,
    post: Post | None = None,
) -> Post:
    """Create or update a draft: its text, per-channel texts and the channels it goes to."""
    may_compose(member)
    organization = member.organization
    if len(text) > MAX_TEXT:
        raise PublishError(f"a post may have up to {MAX_TEXT} characters")
    for channel in channels:
        if channel.organization_id != organization.pk or not can_publish(channel):
            raise PublishError(f"earful cannot post to {channel.name}")
    codes = {str(channel.code) for channel in channels}
    kept = {code: value[:MAX_TEXT] for code, value in (overrides or {}).items() if code in codes}
    kept = {code: value for code, value in kept.items() if value.strip()}
    created = post is None
    if post is None:
        post = Post(organization=organization, author=member.user)
    else:
        check_open(post)
    before = None if created else {"text": post.text, "state": post.state}
    post.text, post.overrides = text, kept
    if not created and post.state != PostState.DRAFT:
        # An edited post goes back to draft: what was scheduled or held is not what it says now.
        post.state, post.scheduled_at, post.hold_reasons = PostState.DRAFT, None, []
    post.save()
    post.targets.exclude(channel__in=channels).delete()
    for channel in channels:
        PostTarget.objects.get_or_create(organization=organization, post=post, channel=channel)
    record_event(
        organization,
        "post.drafted" if created else "post.edited",
        actor=member.user,
        target=post,
        before=before,
        after={"text": text[:500], "channels": sorted(c.name for c in channels)},
    )
    return post


def problems(post: Post) -> list[str]:
    """Why the post cannot go out as it is (empty text, no channel, too long somewhere)."""
    found = []
    targets = _targets(post)
    has_media = post.media.exists()
    if not post.text.strip():
        found.append("the post is empty")
    if not targets:
        found.append("choose at least one channel")
    for target in targets:
        if not can_publish(target.channel):
            found.append(f"earful can no longer post to {target.channel.name}")
        reason = too_long(target.channel.kind, post.text_for(target.channel))
        if reason:
            found.append(f"{target.channel.name}: {reason}")
        if has_media and not takes_media(target.channel):
            found.append(f"{target.channel.name}: earful posts text only there; remove the media")
    return found


def _ready(post: Post) -> None:
    found = problems(post)
    if found:
        raise PublishError("; ".join(found))


@transaction.atomic
def schedule(member: Membership, post: Post, when: datetime, *, now: datetime) -> Post:
    """Set the time a post goes out; the gate is asked then. A past time publishes now."""
    may_compose(member)
    check_open(post)
    _ready(post)
    if needs_approval(member):
        return _submit(member, post, "schedule", max(when, now))
    if when <= now:
        return publish_now(member, post, now=now)
    before = {"state": post.state, "scheduled_at": _iso(post.scheduled_at)}
    post.state, post.scheduled_at, post.hold_reasons = PostState.SCHEDULED, when, []
    post.save(update_fields=["state", "scheduled_at", "hold_reasons"])
    record_event(
        post.organization,
        "post.scheduled",
        actor=member.user,
        target=post,
        before=before,
        after={"state": post.state, "scheduled_at": when.isoformat()},
    )
    return post


@transaction.atomic
def publish_now(member: Membership, post: Post, *, now: datetime) -> Post:
    """Ask the gate now: the post goes out, or is held with the reasons."""
    may_compose(member)
    check_open(post)
    _ready(post)
    if needs_approval(member):
        return _submit(member, post, "publish", now)
    post.scheduled_at = now
    post.save(update_fields=["scheduled_at"])
    return attempt(post, now, actor=member)


def _submit(member: Membership, post: Post, wants: str, when: datetime) -> Post:
    """A trainee's post waits for their reviewer (earful.org.training) instead of going out."""
    before = {"state": post.state}
    post.state, post.wants, post.scheduled_at = PostState.REVIEW, wants, when
    post.save(update_fields=["state", "wants", "scheduled_at"])
    record_event(
        post.organization,
        "post.submitted",
        actor=member.user,
        target=post,
        before=before,
        after={
            "wants": wants,
            "scheduled_at": when.isoformat(),
            "reviewers": [m.user.email for m in reviewers_for(member)],
        },
    )
    return post


@transaction.atomic
def cancel(member: Membership, post: Post) -> Post:
    """Stop a draft, scheduled or held post from going out."""
    may_compose(member)
    check_open(post)
    before = {"state": post.state}
    post.state = PostState.CANCELLED
    post.save(update_fields=["state"])
    record_event(post.organization, "post.cancelled", actor=member.user, target=post, before=before)
    return post


@transaction.atomic
def override_hold(member: Membership, post: Post, reason: str, *, now: datetime) -> Post:
    """A manager sends a held post out despite the gate; the reason goes in the event log."""
    if member.role not in MANAGERS:
        raise PublishError("only managers and admins can override the listen-first gate")
    if post.state != PostState.HELD:
        raise PublishError("only a held post can be overridden")
    reason = reason.strip()
    if not reason:
        raise PublishError("say why the post should go out despite the gate")
    _ready(post)
    post.override_by, post.override_reason = member.user, reason[:2000]
    post.save(update_fields=["override_by", "override_reason"])
    record_event(
        post.organization,
        "post.overridden",
        actor=member.user,
        target=post,
        before={"hold_reasons": post.hold_reasons},
        after={"reason": post.override_reason},
    )
    return attempt(post, now, actor=member)


def attempt(post: Post, now: datetime, *, actor: Membership | None = None) -> Post:
    """Publish the post if the gate lets it (or a manager overrode it), else hold it."""
    targets = _targets(post)
    found = problems(post)
    if found:
        # A channel disconnected (or the post no longer fits) since it was scheduled.
        return _hold(
            post,
            [{"rule": "channel", "channel": "", "text": t, "links": []} for t in found],
            now,
            actor,
        )
    reasons = []
    if post.override_by_id is None:
        texts = [(target.channel, post.text_for(target.channel)) for target in targets]
        reasons = gate.check(post.organization, texts, now)
    if reasons:
        return _hold(post, [reason.as_json() for reason in reasons], now, actor)
    return _publish(post, targets, now, actor)


@transaction.atomic
def _hold(
    post: Post, reasons: list[dict[str, Any]], now: datetime, actor: Membership | None
) -> Post:
    changed = post.state != PostState.HELD or post.hold_reasons != reasons
    before = {"state": post.state, "hold_reasons": post.hold_reasons}
    post.state, post.hold_reasons, post.checked_at = PostState.HELD, reasons, now
    post.save(update_fields=["state", "hold_reasons", "checked_at"])
    if changed:
        # Only a new or changed hold is logged: the tick re-checks every held post each pass.
        record_event(
            post.organization,
            "post.held",
            actor=actor.user if actor else None,
            target=post,
            before=before,
            after={"hold_reasons": reasons},
        )
    return post


@transaction.atomic
def _publish(
    post: Post, targets: list[PostTarget], now: datetime, actor: Membership | None
) -> Post:
    # The claim: of two ticks (or a tick and a person) only one moves the post on.
    claimed = Post.objects.filter(pk=post.pk, state__in=OPEN_STATES).update(
        state=PostState.PUBLISHING, hold_reasons=[], checked_at=now, published_at=now
    )
    post.refresh_from_db()
    if not claimed:
        return post
    attachments = [
        Attachment(item.path, item.content_type, item.description)
        for item in post.media.order_by("pk")
    ]
    for target in targets:
        text = post.text_for(target.channel)
        message = Message(
            organization_id=post.organization_id,
            channel=target.channel,
            sent_by=post.author,
            author_handle=post.author.get_username() if post.author else "",
            direction=Direction.OUT,
            kind=MessageKind.POST,
            visibility=Visibility.PUBLIC,
            text=text,
            created_at=now,
        )
        message.external_id = f"earful:{message.code.hex}"
        message.save()
        target.message = message
        target.save(update_fields=["message"])
        enqueue(message, None, target.channel, now, media=attachments)
    # Runs after the deliveries enqueue put on commit: a post sent at once reads published.
    transaction.on_commit(lambda: settle(post))
    record_event(
        post.organization,
        "post.publishing",
        actor=actor.user if actor else None,
        target=post,
        after={
            "channels": [target.channel.name for target in targets],
            "override": post.override_reason,
        },
    )
    return post


@transaction.atomic
def settle(post: Post) -> Post:
    """Mark a publishing post published once every channel has it, failed if one gave up."""
    sent = OutboxItem.objects.filter(message__post_target__post=post)
    statuses = list(sent.values_list("status", flat=True))
    if len(statuses) < post.targets.count():
        return post
    if statuses and all(status in DONE for status in statuses):
        state = PostState.PUBLISHED
    elif OutboxStatus.DEAD in statuses:
        state = PostState.FAILED
    else:
        return post
    if Post.objects.filter(pk=post.pk, state=PostState.PUBLISHING).update(state=state):
        post.state = state
        record_event(post.organization, f"post.{state}", target=post, after={"sent": statuses})
    return post


def due(now: datetime) -> QuerySet[Post]:
    """Scheduled posts whose time has come, and held posts to check again."""
    return Post.objects.filter(
        state__in=[PostState.SCHEDULED, PostState.HELD], scheduled_at__lte=now
    ).order_by("scheduled_at", "pk")


def publish_due(now: datetime) -> int:
    """The tick's part: ask the gate for every due or held post, then settle what went out.

    Returns how many posts started publishing in this pass.
    """
    started = 0
    for post in due(now).select_related("organization", "author"):
        started += attempt(post, now).state == PostState.PUBLISHING
    publishing = Post.objects.filter(state=PostState.PUBLISHING).select_related("organization")
    for post in publishing:
        settle(post)
    return started


@transaction.atomic
def save_gate_settings(member: Membership, **values: Any) -> PublishSettings:
    """Change the organization's gate: which checks run and their thresholds (managers)."""
    if member.role not in MANAGERS:
        raise PublishError("only managers and admins change the listen-first gate")
    rules, _ = PublishSettings.objects.get_or_create(organization=member.organization)
    fields = GATE_FIELDS
    before = {name: getattr(rules, name) for name in fields}
    for name, value in values.items():
        if name not in fields:
            raise PublishError(f"unknown gate setting {name!r}")
        if name.endswith(("_minutes", "_hours")) and not 0 < int(value) <= 100_000:
            raise PublishError(f"{name.replace('_', ' ')} must be a positive number")
        setattr(rules, name, value)
    rules.save()
    record_event(
        member.organization,
        "publishing.gate_changed",
        actor=member.user,
        target=rules,
        before=before,
        after={name: getattr(rules, name) for name in fields},
    )
    return rules


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


@transaction.atomic
def compose(
    member: Membership,
    text: str,
    channels: list[Channel],
    *,
    overrides: dict[str, str],
    post: Post | None,
    action: str,
    when: datetime | None,
    now: datetime,
) -> Post:
    """The composer's one call: save the draft, then schedule it or publish it now (all or
    nothing, so a refused schedule leaves the post as it was)."""
    post = save_draft(member, text, channels, overrides=overrides, post=post)
    if action == "schedule":
        if when is None:
            raise PublishError("choose when the post goes out")
        return schedule(member, post, when, now=now)
    if action == "publish":
        return publish_now(member, post, now=now)
    return post
