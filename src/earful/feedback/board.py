"""What customers do on the public board: post ideas, vote, comment; each post is also ingested.

Customers name themselves with a name and an email; they become an identity of platform
"board" (external id: the address, lower case) through the customers services, so the same
address is one customer however often they come back. Posts and comments enter the normal
pipeline as messages of kind "board" on the board's channel, so they are triaged and seen
in the inbox like anything else customers write.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Count, Max, QuerySet

from earful.channels.inbound import flooded, remember_delivery
from earful.channels.records import Author
from earful.channels.services import get_or_create_channel
from earful.conversations.models import Message
from earful.customers.models import Customer, Identity
from earful.customers.services import resolve_identities
from earful.errors import DomainError
from earful.feedback import similarity
from earful.feedback.models import (
    Board,
    BoardBlock,
    Idea,
    IdeaComment,
    IdeaStatus,
    IdeaSupporter,
    SupportHow,
    Visibility,
)
from earful.org.events import record_event
from earful.org.models import Organization
from earful.pipeline.ingest import ingest_batch

Actor = User | AnonymousUser | None
PLATFORM = "board"
EMAIL = re.compile(r"[^@\s<>\"'(),;:\\]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,63}")
MAX_TITLE = 200
MAX_TEXT = 5000
# Posts and comments a board accepts a minute, from everyone together.
POSTS_PER_MINUTE = 30


@dataclass(frozen=True)
class Person:
    """Who a customer says they are on the board: untrusted, checked by `checked_person`."""

    name: str
    email: str


def checked_person(name: str, email: str) -> Person:
    """The person with a normalized address, or DomainError saying what to fix."""
    name, email = name.strip(), email.strip().lower()
    if not name:
        raise DomainError("please give your name")
    if len(name) > 200:
        raise DomainError("please shorten your name")
    if not EMAIL.fullmatch(email):
        raise DomainError("please give a valid email address (it is never shown)")
    return Person(name, email)


@transaction.atomic
def board_for(organization: Organization) -> Board:
    """The organization's board, created (with its channel) the first time it is asked for."""
    board = Board.objects.filter(organization=organization).first()
    if board is not None:
        return board
    channel = get_or_create_channel(organization, name="Feedback board", kind="board")
    slug = organization.slug
    if Board.objects.filter(slug=slug).exists():
        slug = f"{slug}-{uuid.uuid4().hex[:6]}"
    board = Board.objects.create(
        organization=organization, slug=slug, title=f"{organization.name} ideas", channel=channel
    )
    record_event(organization, "board.created", target=board.channel, after={"slug": slug})
    return board


def public_ideas(board: Board) -> QuerySet[Idea]:
    """The ideas the public sees: approved, not hidden, not merged away; most supported first."""
    return (
        Idea.objects.filter(
            organization_id=board.organization_id,
            visibility=Visibility.SHOWN,
            duplicate_of__isnull=True,
        )
        .annotate(votes=Count("supporters"))
        .order_by("-votes", "-created_at")
    )


def _customer_of(organization: Organization, person: Person) -> Customer:
    resolved = resolve_identities(
        organization,
        PLATFORM,
        [Author(external_id=person.email, handle=person.email, display_name=person.name)],
    )
    return resolved.by_external_id[person.email].customer


def _refuse_blocked(organization: Organization, email: str) -> None:
    customer_ids = Identity.objects.filter(
        organization=organization, platform=PLATFORM, external_id=email
    ).values("customer_id")
    if BoardBlock.objects.filter(organization=organization, customer_id__in=customer_ids).exists():
        raise DomainError("this board does not accept posts from you")


def _admit(board: Board, person: Person, kind: str, text: str) -> None:
    """Refuse a flood of posts and the same post sent twice (a double click, a replay)."""
    if flooded(board.channel, POSTS_PER_MINUTE):
        raise DomainError("too many posts right now; please try again in a minute")
    digest = hashlib.sha256(f"{kind}\n{person.email}\n{text}".encode()).hexdigest()
    if remember_delivery(board.channel, digest) is None:
        raise DomainError("we already have this, thank you")


def ingest_board_message(
    board: Board,
    external_id: str,
    text: str,
    author: dict[str, str],
    source: dict[str, object],
) -> Message:
    """Send a customer's text through the pipeline as a board message; return it stored."""
    record: dict[str, object] = {
        "external_id": external_id,
        "text": text,
        "created_at": datetime.now(UTC).isoformat(),
        "kind": "board",
        "author": author,
        "source": source,
    }
    report = ingest_batch(board.channel, [(1, record)])
    if report.rejections:
        raise DomainError(report.rejections[0].reason)
    message = (
        Message.objects.select_related("identity")
        .filter(channel=board.channel, external_id=external_id)
        .first()
    )
    if message is None or message.identity is None:
        # Dropped at the door by the organization's block rules.
        raise DomainError("this board does not accept this post")
    return message


def _ingest(board: Board, person: Person, kind: str, code: uuid.UUID, text: str) -> Message:
    """A person's post or comment, admitted and ingested."""
    _admit(board, person, kind, text)
    return ingest_board_message(
        board,
        f"board-{kind}-{code}",
        text,
        {"external_id": person.email, "handle": person.email, "display_name": person.name},
        {"via": "board", kind: str(code), "reply_to": person.email},
    )


def next_number(organization: Organization) -> int:
    """The next idea number (call inside a transaction: the organization row stays locked)."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    top = Idea.objects.filter(organization=organization).aggregate(top=Max("number"))["top"]
    return (top or 0) + 1


def _check_text(title: str, details: str) -> tuple[str, str]:
    title, details = title.strip(), details.strip()
    if not title:
        raise DomainError("please describe your idea in a sentence")
    if len(title) > MAX_TITLE:
        raise DomainError(f"please keep the summary under {MAX_TITLE} characters")
    if len(details) > MAX_TEXT:
        raise DomainError(f"please keep the details under {MAX_TEXT:,} characters")
    return title, details


@transaction.atomic
def post_idea(board: Board, person: Person, title: str, details: str = "") -> Idea:
    """A customer's new idea: stored, ingested as a board message; the author supports it."""
    title, details = _check_text(title, details)
    organization = board.organization
    _refuse_blocked(organization, person.email)
    code = uuid.uuid4()
    text = f"{title}\n\n{details}" if details else title
    message = _ingest(board, person, "idea", code, text)
    assert message.identity is not None
    customer = message.identity.customer
    idea = Idea.objects.create(
        code=code,
        organization=organization,
        number=next_number(organization),
        title=title,
        details=details,
        author=customer,
        message=message,
        visibility=Visibility.PENDING if board.approve_first else Visibility.SHOWN,
        embedding=similarity.vector_bytes(text),
    )
    IdeaSupporter.objects.create(
        organization=organization,
        idea=idea,
        customer=customer,
        how=SupportHow.POSTED,
        message=message,
    )
    record_event(
        organization,
        "idea.posted",
        target=idea,
        after={"number": idea.number, "visibility": idea.visibility},
    )
    return idea


def add_supporter(
    idea: Idea, customer: Customer, how: str, *, message: Message | None = None
) -> tuple[IdeaSupporter, bool]:
    """Count the customer as a supporter of the idea, once; True if they were new."""
    if idea.duplicate_of_id is not None:
        raise DomainError("this idea was merged into another; support that one")
    return IdeaSupporter.objects.get_or_create(
        idea=idea,
        customer=customer,
        defaults={"organization_id": idea.organization_id, "how": how, "message": message},
    )


def _votable(idea: Idea) -> None:
    if idea.visibility != Visibility.SHOWN:
        raise DomainError("this idea is not open for votes")
    if idea.status == IdeaStatus.DUPLICATE:
        raise DomainError("this idea was merged into another; vote there")


@transaction.atomic
def vote(idea: Idea, person: Person) -> IdeaSupporter:
    """A customer's vote: they become a supporter (a second vote changes nothing)."""
    _votable(idea)
    _refuse_blocked(idea.organization, person.email)
    customer = _customer_of(idea.organization, person)
    supporter, created = add_supporter(idea, customer, SupportHow.VOTE)
    if created:
        record_event(
            idea.organization, "idea.voted", target=idea, after={"customer": str(customer.code)}
        )
    return supporter


@transaction.atomic
def comment(idea: Idea, person: Person, text: str) -> IdeaComment:
    """A customer's comment: stored, ingested as a board message; the commenter supports it."""
    _votable(idea)
    text = text.strip()
    if not text:
        raise DomainError("the comment is empty")
    if len(text) > MAX_TEXT:
        raise DomainError(f"please keep the comment under {MAX_TEXT:,} characters")
    _refuse_blocked(idea.organization, person.email)
    board = Board.objects.select_related("channel").get(organization_id=idea.organization_id)
    code = uuid.uuid4()
    message = _ingest(board, person, "comment", code, text)
    assert message.identity is not None
    customer = message.identity.customer
    found = IdeaComment.objects.create(
        code=code,
        organization_id=idea.organization_id,
        idea=idea,
        customer=customer,
        message=message,
        text=text,
        visibility=Visibility.PENDING if board.approve_first else Visibility.SHOWN,
    )
    add_supporter(idea, customer, SupportHow.COMMENT, message=message)
    record_event(idea.organization, "idea.commented", target=idea, after={"comment": str(code)})
    return found


def similar_ideas(
    organization: Organization, text: str, *, limit: int = 5, public_only: bool = True
) -> list[tuple[Idea, float]]:
    """Existing ideas closest to a text, with their similarity, best first."""
    if not text.strip():
        return []
    candidates = Idea.objects.filter(organization=organization, duplicate_of__isnull=True)
    if public_only:
        candidates = candidates.filter(visibility=Visibility.SHOWN)
    ideas = list(candidates.annotate(votes=Count("supporters")).order_by("-created_at")[:5000])
    query_vector = similarity.embed([text])
    ranked = similarity.rank(
        text,
        [f"{i.title}\n{i.details}" for i in ideas],
        [similarity.from_bytes(i.embedding) for i in ideas],
        query_vector=None if query_vector is None else query_vector[0],
        limit=limit,
        likely_only=True,
    )
    return [(ideas[s.index], s.score) for s in ranked]


@dataclass(frozen=True)
class BoardSettings:
    """What staff may change about their board and its feedback requests."""

    title: str
    slug: str
    public_url: str
    approve_first: bool
    request_after_resolve: bool
    request_question: str
    request_interval_days: int
    shipped_template: str


SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
PUBLIC_URL = re.compile(r"https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")


@transaction.atomic
def update_board(board: Board, values: BoardSettings, *, by: Actor) -> Board:
    """Save the board's settings after checking each."""
    if not values.title.strip() or len(values.title) > 200:
        raise DomainError("the board needs a title of at most 200 characters")
    if not SLUG.fullmatch(values.slug):
        raise DomainError("the address may hold lower-case letters, digits and dashes")
    if Board.objects.filter(slug=values.slug).exclude(pk=board.pk).exists():
        raise DomainError("that address is taken")
    if not PUBLIC_URL.fullmatch(values.public_url):
        raise DomainError("the public address must look like https://feedback.example.com")
    if not 1 <= values.request_interval_days <= 3650:
        raise DomainError("ask at most once every 1 to 3650 days")
    if not values.request_question.strip() or not values.shipped_template.strip():
        raise DomainError("the question and the shipped notice cannot be empty")
    if "{link}" not in values.shipped_template:
        raise DomainError("the shipped notice must contain {link}, so customers can see it")
    before = {"slug": board.slug, "request_after_resolve": board.request_after_resolve}
    board.title = values.title.strip()
    board.slug = values.slug
    board.public_url = values.public_url
    board.approve_first = values.approve_first
    board.request_after_resolve = values.request_after_resolve
    board.request_question = values.request_question.strip()[:2000]
    board.request_interval_days = values.request_interval_days
    board.shipped_template = values.shipped_template.strip()[:2000]
    board.save()
    record_event(
        board.organization,
        "board.settings_changed",
        actor=by,
        target=board.channel,
        before=before,
        after={"slug": board.slug, "request_after_resolve": board.request_after_resolve},
    )
    return board
