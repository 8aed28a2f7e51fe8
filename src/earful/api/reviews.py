"""Trainees' replies held for review, and the team's training, over the API.

The same services as the review queue and team pages (earful.inbox.reviews).
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import NinjaAPI, Router, Schema

from earful.inbox import reviews
from earful.inbox.replies import ReplyHeldError
from earful.inbox.review_models import ReplyDraft
from earful.org.access import access_member, access_organization
from earful.org.models import Membership

router = Router(tags=["reviews"])


class ToneFlagOut(Schema):
    category: str
    reason: str
    phrase: str


class DraftOut(Schema):
    code: str
    conversation: int
    author: str
    text: str
    status: str
    tone_flags: list[ToneFlagOut]
    tone_suggestion: str
    reviewer_comment: str
    times_sent_back: int
    message: str | None
    updated_at: datetime

    @staticmethod
    def resolve_code(obj: ReplyDraft) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_conversation(obj: ReplyDraft) -> int:
        return obj.conversation.number

    @staticmethod
    def resolve_author(obj: ReplyDraft) -> str:
        return obj.author.email

    @staticmethod
    def resolve_message(obj: ReplyDraft) -> str | None:
        return str(obj.message.code) if obj.message is not None else None


class ApproveIn(Schema):
    # Omitted or unchanged: approved as written; different: the reviewer's edit is sent.
    text: str | None = None


class CommentIn(Schema):
    comment: str


class TextIn(Schema):
    text: str


class TeamMemberOut(Schema):
    email: str
    role: str
    in_training: bool
    reviewer: str | None
    drafts: int
    approved_first_time: int
    sent_back: int
    waiting: int


class TrainingIn(Schema):
    member: str
    in_training: bool
    # A member's email, or null for "any manager or admin".
    reviewer: str | None = None


def install(api: NinjaAPI) -> None:
    """Add these routes, and answer a held reply (on any reply route) with 202, not 400."""
    api.add_router("", router)
    api.add_exception_handler(ReplyHeldError, held)


def held(request: HttpRequest, exc: object) -> HttpResponse:
    """A trainee's reply was kept for review, not sent: 202 with the draft to follow."""
    assert isinstance(exc, ReplyHeldError)
    return JsonResponse(
        {"detail": str(exc), "draft": str(exc.draft.code), "status": exc.draft.status},
        status=202,
    )


@router.get("/orgs/{org}/reviews", response=list[DraftOut])
def review_queue(request: HttpRequest, org: str) -> list[ReplyDraft]:
    """The held replies the caller may review, oldest first."""
    return list(reviews.review_queue(access_organization(request.user, org)))


@router.get("/orgs/{org}/reviews/{draft}", response=DraftOut)
def draft(request: HttpRequest, org: str, draft: str) -> ReplyDraft:
    """One draft: its text, status, tone findings and the reviewer's comment."""
    return reviews.access_draft(access_organization(request.user, org).organization, draft)


@router.post("/orgs/{org}/reviews/{draft}/approve", response=DraftOut)
def approve(request: HttpRequest, org: str, draft: str, body: ApproveIn) -> ReplyDraft:
    """Approve a held reply; it goes out through the outbox as its author's reply."""
    membership = access_organization(request.user, org)
    found = reviews.access_draft(membership.organization, draft)
    return reviews.approve(found, by=membership, now=timezone.now(), text=body.text)


@router.post("/orgs/{org}/reviews/{draft}/send-back", response=DraftOut)
def send_back(request: HttpRequest, org: str, draft: str, body: CommentIn) -> ReplyDraft:
    """Send a held reply back to its author with a comment."""
    membership = access_organization(request.user, org)
    found = reviews.access_draft(membership.organization, draft)
    return reviews.send_back(found, by=membership, comment=body.comment, now=timezone.now())


@router.post("/orgs/{org}/reviews/{draft}/resubmit", response=DraftOut)
def resubmit(request: HttpRequest, org: str, draft: str, body: TextIn) -> ReplyDraft:
    """The author's rewrite of a sent-back reply, held for review again."""
    membership = access_organization(request.user, org)
    found = reviews.access_draft(membership.organization, draft)
    return reviews.resubmit(found, by=membership, text=body.text, now=timezone.now())


@router.get("/orgs/{org}/team", response=list[TeamMemberOut])
def team(request: HttpRequest, org: str) -> list[dict[str, object]]:
    """Each member's training state and review counts."""
    organization = access_organization(request.user, org).organization
    return [
        {
            "email": row.membership.user.email,
            "role": row.membership.role,
            "in_training": row.membership.in_training,
            "reviewer": row.membership.reviewer.email if row.membership.reviewer else None,
            "drafts": row.drafts,
            "approved_first_time": row.approved_first_time,
            "sent_back": row.sent_back,
            "waiting": row.waiting,
        }
        for row in reviews.team(organization)
    ]


@router.post("/orgs/{org}/team/training", response=TeamMemberOut)
def training(request: HttpRequest, org: str, body: TrainingIn) -> dict[str, object]:
    """Put a member in or out of training (managers and admins only)."""
    membership = access_organization(request.user, org)
    organization = membership.organization
    member = access_member(organization, body.member)
    reviewer: Membership | None = (
        access_member(organization, body.reviewer) if body.reviewer else None
    )
    changed = reviews.change_training(
        member, by=membership, in_training=body.in_training, reviewer=reviewer
    )
    (row,) = [r for r in reviews.team(organization) if r.membership.pk == changed.pk]
    return {
        "email": changed.user.email,
        "role": changed.role,
        "in_training": changed.in_training,
        "reviewer": changed.reviewer.email if changed.reviewer else None,
        "drafts": row.drafts,
        "approved_first_time": row.approved_first_time,
        "sent_back": row.sent_back,
        "waiting": row.waiting,
    }
