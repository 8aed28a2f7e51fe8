"""What staff do with ideas: status, merges, private notes, moderation, links to messages."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from earful.conversations.models import Direction, Message
from earful.conversations.models import Visibility as MessageVisibility
from earful.errors import DomainError
from earful.feedback import similarity
from earful.feedback.board import MAX_TITLE, add_supporter, next_number
from earful.feedback.delivery import PRIVATE_KINDS
from earful.feedback.models import (
    BoardBlock,
    Idea,
    IdeaComment,
    IdeaStatus,
    IdeaStatusChange,
    IdeaSupporter,
    StaffNote,
    SupportHow,
    Visibility,
)
from earful.feedback.notices import notify_supporters
from earful.org.events import record_event
from earful.org.models import Organization

Actor = User | AnonymousUser | None
SETTABLE = tuple(s for s in IdeaStatus.values if s != IdeaStatus.DUPLICATE)


def _user(by: Actor) -> User | None:
    return by if isinstance(by, User) else None


@transaction.atomic
def set_status(
    idea: Idea, status: str, *, by: Actor, now: datetime, response: str | None = None
) -> Idea:
    """Change an idea's status (history kept); shipping tells every supporter not yet told."""
    if status not in SETTABLE:
        raise DomainError(f"an idea cannot be set to {status!r}; merge duplicates instead")
    idea = Idea.objects.select_for_update().get(pk=idea.pk)
    if idea.duplicate_of_id is not None:
        raise DomainError("this idea was merged into another")
    before = idea.status
    if response is not None:
        idea.public_response = response.strip()
    idea.status = status
    if status == IdeaStatus.SHIPPED and idea.shipped_at is None:
        idea.shipped_at = now
    idea.save(update_fields=["status", "public_response", "shipped_at"])
    IdeaStatusChange.objects.create(
        organization_id=idea.organization_id,
        idea=idea,
        before=before,
        after=status,
        response=idea.public_response,
        by=_user(by),
    )
    record_event(
        idea.organization,
        "idea.status_changed",
        actor=by,
        target=idea,
        before={"status": before},
        after={"status": status, "response": idea.public_response},
    )
    if status == IdeaStatus.SHIPPED:
        notify_supporters(idea, now=now)
    return idea


@transaction.atomic
def merge_ideas(source: Idea, into: Idea, *, by: Actor) -> Idea:
    """Fold a duplicate into another idea: its supporters and comments move, each person once."""
    if source.pk == into.pk:
        raise DomainError("an idea cannot be merged into itself")
    if source.organization_id != into.organization_id:
        raise DomainError("ideas of different organizations cannot be merged")
    locked = {i.pk: i for i in Idea.objects.select_for_update().filter(pk__in=[source.pk, into.pk])}
    source, into = locked[source.pk], locked[into.pk]
    if source.duplicate_of_id is not None:
        raise DomainError("this idea was already merged")
    if into.duplicate_of_id is not None:
        raise DomainError("that idea was itself merged; merge into the one it went to")
    already = IdeaSupporter.objects.filter(idea=into).values("customer_id")
    # Someone who supported both is counted once: their row on the duplicate goes.
    dropped = IdeaSupporter.objects.filter(idea=source, customer_id__in=already).delete()[0]
    moved = IdeaSupporter.objects.filter(idea=source).update(idea=into)
    IdeaComment.objects.filter(idea=source).update(idea=into)
    before = source.status
    source.status, source.duplicate_of = IdeaStatus.DUPLICATE, into
    source.save(update_fields=["status", "duplicate_of"])
    IdeaStatusChange.objects.create(
        organization_id=source.organization_id,
        idea=source,
        before=before,
        after=IdeaStatus.DUPLICATE,
        response=f"Merged into #{into.number}",
        by=_user(by),
    )
    record_event(
        source.organization,
        "idea.merged",
        actor=by,
        target=source,
        before={"status": before},
        after={"into": str(into.code), "moved": moved, "counted_once": dropped},
    )
    return into


@transaction.atomic
def add_staff_note(idea: Idea, text: str, *, by: Actor) -> StaffNote:
    """A private note on the idea, for staff only."""
    text = text.strip()
    if not text:
        raise DomainError("the note is empty")
    note = StaffNote.objects.create(
        organization_id=idea.organization_id, idea=idea, author=_user(by), text=text
    )
    record_event(idea.organization, "idea.noted", actor=by, target=idea)
    return note


def _moderate(target: Idea | IdeaComment, visibility: str, by: Actor) -> None:
    if visibility not in (Visibility.SHOWN, Visibility.HIDDEN):
        raise DomainError("choose to show (approve) or hide")
    before = target.visibility
    target.visibility = visibility
    target.save(update_fields=["visibility"])
    kind = "idea" if isinstance(target, Idea) else "idea.comment"
    record_event(
        target.organization,
        f"{kind}.moderated",
        actor=by,
        target=target,
        before={"visibility": before},
        after={"visibility": visibility},
    )


@transaction.atomic
def moderate_idea(idea: Idea, visibility: str, *, by: Actor) -> Idea:
    """Approve (show) or hide an idea on the public board."""
    _moderate(idea, visibility, by)
    return idea


@transaction.atomic
def moderate_comment(comment: IdeaComment, visibility: str, *, by: Actor) -> IdeaComment:
    """Approve (show) or hide a comment on the public board."""
    _moderate(comment, visibility, by)
    return comment


@transaction.atomic
def block_author(idea: Idea, *, by: Actor) -> BoardBlock:
    """Block the idea's author from the board and hide everything they posted there."""
    if idea.author_id is None:
        raise DomainError("this idea has no customer author to block")
    block, _ = BoardBlock.objects.get_or_create(
        organization_id=idea.organization_id,
        customer_id=idea.author_id,
        defaults={"by": _user(by)},
    )
    hidden = Idea.objects.filter(
        organization_id=idea.organization_id, author_id=idea.author_id
    ).update(visibility=Visibility.HIDDEN)
    hidden += IdeaComment.objects.filter(
        organization_id=idea.organization_id, customer_id=idea.author_id
    ).update(visibility=Visibility.HIDDEN)
    record_event(
        idea.organization,
        "board.author_blocked",
        actor=by,
        target=idea.author,
        after={"hidden": hidden},
    )
    return block


def _message_customer(message: Message) -> int:
    if message.direction != Direction.IN or message.identity is None:
        raise DomainError("only a customer's message can be linked to an idea")
    return message.identity.customer_id


@transaction.atomic
def link_message(message: Message, idea: Idea, *, by: Actor) -> IdeaSupporter:
    """Link a customer's message to an idea: its author supports it, as if they had voted."""
    customer_id = _message_customer(message)
    if message.organization_id != idea.organization_id:
        raise DomainError("the message and the idea belong to different organizations")
    assert message.identity is not None
    supporter, created = add_supporter(
        idea, message.identity.customer, SupportHow.LINKED_MESSAGE, message=message
    )
    if not created and supporter.message_id is None:
        # A voter who also wrote in is answered on the channel they wrote on.
        supporter.message = message
        supporter.save(update_fields=["message"])
    record_event(
        idea.organization,
        "idea.message_linked",
        actor=by,
        target=idea,
        after={"message": str(message.code), "customer": customer_id, "new": created},
    )
    return supporter


@transaction.atomic
def open_idea_from_message(message: Message, title: str, *, by: Actor) -> Idea:
    """Open a new idea from a customer's message; its author becomes the first supporter.

    The idea is public, the message may not be: only a public post lends its first line as
    the title, and the message's text is never copied onto the board.
    """
    author_id = _message_customer(message)
    title = title.strip()
    if not title:
        if message.visibility != MessageVisibility.PUBLIC or message.kind in PRIVATE_KINDS:
            raise DomainError("this message is private: give the new idea a title")
        title = message.text.strip().splitlines()[0]
    idea = create_idea(message.organization, title[:MAX_TITLE], by=by)
    idea.message = message
    idea.author_id = author_id
    idea.save(update_fields=["message", "author"])
    link_message(message, idea, by=by)
    return idea


@transaction.atomic
def create_idea(organization: Organization, title: str, details: str = "", *, by: Actor) -> Idea:
    """An idea staff open themselves (shown at once: staff need no approval)."""
    title, details = title.strip(), details.strip()
    if not title:
        raise DomainError("the idea needs a title")
    if len(title) > MAX_TITLE:
        raise DomainError(f"please keep the title under {MAX_TITLE} characters")
    text = f"{title}\n\n{details}" if details else title
    idea = Idea.objects.create(
        organization=organization,
        number=next_number(organization),
        title=title,
        details=details,
        embedding=similarity.vector_bytes(text),
    )
    record_event(organization, "idea.created", actor=by, target=idea, after={"number": idea.number})
    return idea
