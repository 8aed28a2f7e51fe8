"""Reviewing a trainee's post: approve (as written or edited) or send back with a comment.

A member in training (earful.org.training) does not schedule or publish: their post waits
in review. Their named reviewer, or any manager or admin, approves it, and then what the
trainee asked for happens (scheduled for its time, or through the gate now); or sends it
back to draft with a comment, and the trainee rewrites and submits again. Every step is an
event on the post.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from earful.inbox.replies import tone_findings
from earful.org.events import record_event
from earful.org.models import Membership
from earful.org.training import REVIEWER_ROLES, may_review, membership_of
from earful.publishing.models import Post, PostState
from earful.publishing.services import PublishError, attempt, problems


def may_review_post(reviewer: Membership, post: Post) -> bool:
    """Whether this member may approve or send back the post (never their own)."""
    if post.state != PostState.REVIEW or reviewer.organization_id != post.organization_id:
        return False
    trainee = membership_of(post.author, post.organization_id)
    if trainee is None:
        return reviewer.role in REVIEWER_ROLES and reviewer.user_id != post.author_id
    return may_review(reviewer, trainee)


def findings(post: Post) -> list[dict[str, str]]:
    """What the tone guard flags in the post's texts (what the reviewer reads first)."""
    texts = [post.text, *(str(text) for text in post.overrides.values())]
    return [flag for text in texts for flag in tone_findings(text)[0]]


def _check(reviewer: Membership, post: Post) -> None:
    if post.state != PostState.REVIEW:
        raise PublishError("this post is not waiting for a review")
    if not may_review_post(reviewer, post):
        raise PublishError("only the trainee's reviewer or a manager may review this post")


@transaction.atomic
def approve_post(reviewer: Membership, post: Post, *, now: datetime, text: str = "") -> Post:
    """Approve the post (with the reviewer's edit, if any); then it goes as the trainee asked."""
    _check(reviewer, post)
    edited = bool(text.strip()) and text != post.text
    before = {"text": post.text}
    if edited:
        post.text = text
    post.reviewed_by, post.review_comment = reviewer.user, ""
    post.save(update_fields=["text", "reviewed_by", "review_comment"])
    found = problems(post)
    if found:
        raise PublishError("; ".join(found))
    record_event(
        post.organization,
        "post.approved",
        actor=reviewer.user,
        target=post,
        before=before if edited else None,
        after={"edited": edited, "text": post.text[:500], "wants": post.wants},
    )
    if post.wants == "schedule" and post.scheduled_at and post.scheduled_at > now:
        post.state = PostState.SCHEDULED
        post.save(update_fields=["state"])
        return post
    return attempt(post, now, actor=reviewer)


@transaction.atomic
def send_back_post(reviewer: Membership, post: Post, comment: str) -> Post:
    """Return the post to its author as a draft, with what to change."""
    _check(reviewer, post)
    comment = comment.strip()
    if not comment:
        raise PublishError("say what the author should change")
    post.state, post.review_comment = PostState.DRAFT, comment[:2000]
    post.save(update_fields=["state", "review_comment"])
    record_event(
        post.organization,
        "post.sent_back",
        actor=reviewer.user,
        target=post,
        after={"comment": post.review_comment},
    )
    return post
