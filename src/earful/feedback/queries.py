"""Reads for the staff pages: ideas with their counts, unlinked suggestions, who was told."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from earful.channels.models import ChannelKind
from earful.conversations.models import Direction, Intent, Message
from earful.feedback import similarity
from earful.feedback.models import Idea, IdeaSupporter
from earful.org.models import Organization

NEAREST = 3


def staff_ideas(organization: Organization, status: str = "") -> QuerySet[Idea]:
    """Every idea of the organization with its supporter count, most supported first."""
    ideas = Idea.objects.filter(organization=organization).annotate(votes=Count("supporters"))
    if status:
        ideas = ideas.filter(status=status)
    return ideas.order_by("-votes", "-created_at")


def unlinked_suggestions(organization: Organization) -> QuerySet[Message]:
    """Customers' messages triaged as suggestions on any channel, not yet tied to an idea.

    Board posts are ideas already and are left out.
    """
    linked = IdeaSupporter.objects.filter(message=OuterRef("pk"))
    opened = Idea.objects.filter(message=OuterRef("pk"))
    return (
        Message.objects.filter(organization=organization, direction=Direction.IN)
        .filter(Q(intent=Intent.SUGGESTION) | Q(suggestion=True))
        .exclude(channel__kind=ChannelKind.BOARD)
        .exclude(identity__isnull=True)
        .exclude(Exists(linked))
        .exclude(Exists(opened))
        .select_related("channel", "identity__customer")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class Candidate:
    """A suggestion and the ideas nearest to it."""

    message: Message
    nearest: list[tuple[Idea, float]]


def with_nearest(organization: Organization, messages: list[Message]) -> list[Candidate]:
    """Each message with its nearest open ideas (one embedding batch for the page)."""
    ideas = list(
        Idea.objects.filter(organization=organization, duplicate_of__isnull=True).order_by(
            "-created_at"
        )[:5000]
    )
    documents = [f"{i.title}\n{i.details}" for i in ideas]
    vectors = [similarity.from_bytes(i.embedding) for i in ideas]
    queries = similarity.embed([m.text for m in messages]) if ideas else None
    out = []
    for row, message in enumerate(messages):
        ranked = similarity.rank(
            message.text,
            documents,
            vectors,
            query_vector=None if queries is None else queries[row],
            limit=NEAREST,
        )
        out.append(Candidate(message, [(ideas[s.index], s.score) for s in ranked]))
    return out


def supporters_of(idea: Idea) -> QuerySet[IdeaSupporter]:
    """The idea's supporters with how they support it and when they were told it shipped."""
    return (
        IdeaSupporter.objects.filter(idea=idea)
        .select_related("customer", "message__channel", "notice__channel", "notice__outbox")
        .order_by("created_at", "pk")
    )
