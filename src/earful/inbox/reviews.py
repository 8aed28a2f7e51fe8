"""Reviewing trainees' replies: approve (as written or edited), send back, resubmit.

A member in training does not send: earful.inbox.replies holds their reply as a
ReplyDraft. Their named reviewer, or any manager or admin, approves it (it then goes
out through the same send path, as the trainee's reply) or sends it back with a comment;
the trainee rewrites and resubmits. Every step is an event on the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from earful.conversations.access import parse_code
from earful.conversations.models import Conversation
from earful.errors import DomainError
from earful.inbox.handoffs import mark_told
from earful.inbox.replies import deliver_reply, draft_text, prepare_reply, tone_findings
from earful.inbox.review_models import DraftStatus, ReplyDraft
from earful.org.events import record_event
from earful.org.models import Membership, Organization, Role
from earful.org.services import set_training
from earful.org.training import REVIEWER_ROLES, may_review

MANAGERS = (Role.ADMIN, Role.MANAGER)


class ReviewError(DomainError):
    """A review step that cannot be taken, with the reason."""


def access_draft(organization: Organization, code: str) -> ReplyDraft:
    """The organization's draft with that code, or 404 (missing and foreign alike)."""
    return get_object_or_404(
        ReplyDraft.objects.select_related("conversation", "author", "parent__channel"),
        organization=organization,
        code=parse_code(code),
    )


def _trainee(draft: ReplyDraft) -> Membership | None:
    return Membership.objects.filter(
        organization_id=draft.organization_id, user_id=draft.author_id
    ).first()


def _check_reviewer(draft: ReplyDraft, by: Membership) -> None:
    trainee = _trainee(draft)
    allowed = (
        may_review(by, trainee)
        if trainee is not None
        else by.role in REVIEWER_ROLES and by.user_id != draft.author_id
    )
    if not allowed:
        raise ReviewError("only the trainee's reviewer or a manager may review this reply")


def _locked(draft: ReplyDraft, status: DraftStatus) -> ReplyDraft:
    """The draft re-read under a row lock, refused unless it is still in `status`."""
    current = ReplyDraft.objects.select_for_update().get(pk=draft.pk)
    if current.status != status:
        raise ReviewError(f"this reply is no longer {DraftStatus(status).label.lower()}")
    return current


@transaction.atomic
def approve(
    draft: ReplyDraft, *, by: Membership, now: datetime, text: str | None = None
) -> ReplyDraft:
    """Send a held reply (as written, or with the reviewer's edit) as the trainee's reply."""
    _check_reviewer(draft, by)
    current = _locked(draft, DraftStatus.HELD)
    edited = text is not None and draft_text(text) != current.text
    if text is not None and edited:
        current.text = draft_text(text)
        current.tone_flags, current.tone_suggestion = tone_findings(current.text)
    message = deliver_reply(
        current.conversation,
        current.text,
        by=current.author,
        now=now,
        parent=current.parent,
        email_to=current.email_to,
        approved_by=by.user,
    )
    if current.handoff is not None:
        mark_told(current.handoff, message, by=current.author)
    current.status = DraftStatus.APPROVED
    current.message = message
    current.reviewed_by = by.user
    current.edited_by_reviewer = edited
    current.updated_at = now
    current.save()
    record_event(
        current.organization,
        "reply.approved",
        actor=by.user,
        target=current.conversation,
        after={
            "draft": str(current.code),
            "message": str(message.code),
            "author": current.author.get_username(),
            "edited": edited,
        },
    )
    return current


@transaction.atomic
def send_back(draft: ReplyDraft, *, by: Membership, comment: str, now: datetime) -> ReplyDraft:
    """Return a held reply to its trainee with a comment saying what to change."""
    _check_reviewer(draft, by)
    if not comment.strip():
        raise ReviewError("say what to change: sending back needs a comment")
    current = _locked(draft, DraftStatus.HELD)
    current.status = DraftStatus.SENT_BACK
    current.reviewer_comment = comment.strip()
    current.reviewed_by = by.user
    current.times_sent_back += 1
    current.updated_at = now
    current.save()
    record_event(
        current.organization,
        "reply.sent_back",
        actor=by.user,
        target=current.conversation,
        after={"draft": str(current.code), "comment": current.reviewer_comment},
    )
    return current


@transaction.atomic
def resubmit(draft: ReplyDraft, *, by: Membership, text: str, now: datetime) -> ReplyDraft:
    """The trainee's rewrite of a sent-back reply, held for review again."""
    if by.user_id != draft.author_id:
        raise ReviewError("only the reply's author can rewrite it")
    current = _locked(draft, DraftStatus.SENT_BACK)
    prepare_reply(current.conversation, text, parent=current.parent, email_to=current.email_to)
    current.text = draft_text(text)
    current.tone_flags, current.tone_suggestion = tone_findings(current.text)
    current.status = DraftStatus.HELD
    current.updated_at = now
    current.save()
    record_event(
        current.organization,
        "reply.resubmitted",
        actor=by.user,
        target=current.conversation,
        after={
            "draft": str(current.code),
            "flags": [f["category"] for f in current.tone_flags],
        },
    )
    return current


def review_queue(reviewer: Membership) -> QuerySet[ReplyDraft]:
    """The held drafts this member may review, oldest first (managers see all)."""
    held = ReplyDraft.objects.filter(
        organization_id=reviewer.organization_id, status=DraftStatus.HELD
    ).exclude(author_id=reviewer.user_id)
    if reviewer.role not in REVIEWER_ROLES:
        trainees = Membership.objects.filter(
            organization_id=reviewer.organization_id, reviewer_id=reviewer.user_id
        ).values("user_id")
        held = held.filter(author_id__in=trainees)
    return held.select_related("conversation", "author", "parent__channel").order_by(
        "created_at", "pk"
    )


def drafts_on(conversation: Conversation, member: Membership) -> list[ReplyDraft]:
    """The drafts not yet sent on this conversation that this member wrote or may review."""
    drafts = list(
        conversation.reply_drafts.exclude(status=DraftStatus.APPROVED)
        .select_related("author", "reviewed_by")
        .order_by("created_at", "pk")
    )
    return [
        d
        for d in drafts
        if d.author_id == member.user_id or member.role in REVIEWER_ROLES
        or _reviews(member, d)
    ]


def _reviews(member: Membership, draft: ReplyDraft) -> bool:
    trainee = _trainee(draft)
    return trainee is not None and may_review(member, trainee)


@dataclass(frozen=True)
class TeamRow:
    """One person on the team page: their training state and how their drafts fared."""

    membership: Membership
    drafts: int
    approved_first_time: int
    sent_back: int
    waiting: int


def team(organization: Organization) -> list[TeamRow]:
    """Everyone in the organization with their review counts, by email.

    "Approved first time" is a draft approved as written without ever being sent back.
    "Sent back" counts send-backs (one draft can be sent back more than once).
    """
    counts: dict[int, dict[str, int]] = {
        row["author_id"]: {
            "drafts": row["drafts"],
            "first": row["first"],
            "back": row["back"] or 0,
            "waiting": row["waiting"],
        }
        for row in ReplyDraft.objects.filter(organization=organization)
        .values("author_id")
        .annotate(
            drafts=Count("pk"),
            first=Count(
                "pk",
                filter=Q(
                    status=DraftStatus.APPROVED, times_sent_back=0, edited_by_reviewer=False
                ),
            ),
            back=Sum("times_sent_back"),
            waiting=Count("pk", filter=Q(status=DraftStatus.HELD)),
        )
    }
    rows = []
    for membership in (
        Membership.objects.filter(organization=organization)
        .select_related("user", "reviewer")
        .order_by("user__email")
    ):
        row = counts.get(membership.user_id, {})
        rows.append(
            TeamRow(
                membership,
                drafts=row.get("drafts", 0),
                approved_first_time=row.get("first", 0),
                sent_back=row.get("back", 0),
                waiting=row.get("waiting", 0),
            )
        )
    return rows


def change_training(
    member: Membership,
    *,
    by: Membership,
    in_training: bool,
    reviewer: Membership | None = None,
) -> Membership:
    """A manager puts a member in or out of training, naming their reviewer (or none)."""
    if by.role not in MANAGERS:
        raise ReviewError("only managers and admins put staff in training")
    return set_training(member, in_training=in_training, reviewer=reviewer, actor=by.user)
