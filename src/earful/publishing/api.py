"""The publishing REST API: the composer's services under /orgs/{org}/posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.security import django_auth

from earful.org.access import access_organization
from earful.publishing import services
from earful.publishing.access import access_post
from earful.publishing.limits import publishable_channels
from earful.publishing.models import Post
from earful.publishing.reviews import approve_post, send_back_post

router = Router(tags=["publishing"], auth=django_auth)


class PostIn(Schema):
    text: str
    # Channel codes; only channels earful can post to are accepted.
    channels: list[str]
    overrides: dict[str, str] = {}
    # draft (default), schedule (with scheduled_at) or publish (now, if the gate lets it).
    action: str = "draft"
    scheduled_at: datetime | None = None


class ScheduleIn(Schema):
    scheduled_at: datetime


class OverrideIn(Schema):
    reason: str


class ApproveIn(Schema):
    # The reviewer's edit; empty approves the text as written.
    text: str = ""


class SendBackIn(Schema):
    comment: str


class TargetOut(Schema):
    channel: str
    message: str | None
    delivery: str
    attempts: int
    last_error: str


class PostOut(Schema):
    code: str
    state: str
    text: str
    overrides: dict[str, str]
    scheduled_at: datetime | None
    published_at: datetime | None
    hold_reasons: list[dict[str, Any]]
    override_reason: str
    review_comment: str
    targets: list[TargetOut]

    @staticmethod
    def resolve_code(obj: Post) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_targets(obj: Post) -> list[dict[str, Any]]:
        found = []
        for target in obj.targets.select_related("channel", "message__outbox"):
            item = getattr(target.message, "outbox", None) if target.message else None
            found.append(
                {
                    "channel": str(target.channel.code),
                    "message": str(target.message.code) if target.message else None,
                    "delivery": item.status if item else "",
                    "attempts": item.attempts if item else 0,
                    "last_error": item.last_error if item else "",
                }
            )
        return found


@router.get("/orgs/{org}/posts", response=list[PostOut])
def list_posts(request: HttpRequest, org: str, state: str = "") -> list[Post]:
    """The organization's latest 200 posts, newest first (optionally of one state)."""
    organization = access_organization(request.user, org).organization
    posts = Post.objects.filter(organization=organization).order_by("-created_at", "-pk")
    return list((posts.filter(state=state[:12]) if state else posts)[:200])


@router.post("/orgs/{org}/posts", response={201: PostOut})
def create_post(request: HttpRequest, org: str, body: PostIn) -> Post:
    """Write a post: save it as a draft, schedule it, or publish it now through the gate."""
    membership = access_organization(request.user, org)
    channels = [
        c for c in publishable_channels(membership.organization) if str(c.code) in body.channels
    ]
    if len(channels) != len(set(body.channels)):
        raise services.PublishError("earful cannot post to one of those channels")
    post = services.compose(
        membership,
        body.text,
        channels,
        overrides=body.overrides,
        post=None,
        action=body.action,
        when=body.scheduled_at,
        now=timezone.now(),
    )
    return post


@router.get("/orgs/{org}/posts/{post}", response=PostOut)
def get_post(request: HttpRequest, org: str, post: str) -> Post:
    """One post, its hold reasons and each channel's delivery."""
    return access_post(access_organization(request.user, org).organization, post)


@router.post("/orgs/{org}/posts/{post}/schedule", response=PostOut)
def schedule_post(request: HttpRequest, org: str, post: str, body: ScheduleIn) -> Post:
    """Set when the post goes out (the gate is asked then)."""
    membership = access_organization(request.user, org)
    found = access_post(membership.organization, post)
    return services.schedule(membership, found, body.scheduled_at, now=timezone.now())


@router.post("/orgs/{org}/posts/{post}/publish", response=PostOut)
def publish_post(request: HttpRequest, org: str, post: str) -> Post:
    """Publish now if the gate lets it; otherwise the post is held with the reasons."""
    membership = access_organization(request.user, org)
    found = access_post(membership.organization, post)
    return services.publish_now(membership, found, now=timezone.now())


@router.post("/orgs/{org}/posts/{post}/cancel", response=PostOut)
def cancel_post(request: HttpRequest, org: str, post: str) -> Post:
    """Stop a draft, scheduled or held post."""
    membership = access_organization(request.user, org)
    return services.cancel(membership, access_post(membership.organization, post))


@router.post("/orgs/{org}/posts/{post}/override", response=PostOut)
def override_post(request: HttpRequest, org: str, post: str, body: OverrideIn) -> Post:
    """A manager sends a held post out despite the gate; the reason is in the event log."""
    membership = access_organization(request.user, org)
    found = access_post(membership.organization, post)
    return services.override_hold(membership, found, body.reason, now=timezone.now())


@router.post("/orgs/{org}/posts/{post}/approve", response=PostOut)
def approve(request: HttpRequest, org: str, post: str, body: ApproveIn) -> Post:
    """A reviewer approves a trainee's post (optionally edited); it then goes as asked."""
    membership = access_organization(request.user, org)
    found = access_post(membership.organization, post)
    return approve_post(membership, found, now=timezone.now(), text=body.text)


@router.post("/orgs/{org}/posts/{post}/send-back", response=PostOut)
def send_back(request: HttpRequest, org: str, post: str, body: SendBackIn) -> Post:
    """A reviewer returns a trainee's post to draft with a comment."""
    membership = access_organization(request.user, org)
    found = access_post(membership.organization, post)
    return send_back_post(membership, found, body.comment)
