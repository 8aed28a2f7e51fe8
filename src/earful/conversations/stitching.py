"""Cross-channel stitching: which open conversation a new, unlinked message belongs to.

Rules, strongest first (each join records its rule and confidence on the message):

| rule | evidence | confidence |
|---|---|---|
| reference | the text quotes a case reference such as `#ER-1042` | 0.99 |
| link | the text links to a message already in a conversation | 0.95 |
| same_subject | the same customer, within the stitch window, on a similar subject | 0.90 |
| same_customer | the same customer, within the window, not resolved, and the message | 0.70 |
|               | names no subject of its own ("any news??")                         |      |

Only what customers write is stitched; a brand's own post starts its own conversation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from earful.conversations.models import Conversation, Direction, JoinRule, Message, Status
from earful.org.models import Organization

URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
# Words too common in customer messages to say two are about the same thing.
STOPWORDS = frozenset(
    "the and for you your with this that have has was are not but can any all our out "
    "get got just what when why how who will would could should from they them their "
    "there here been into about still again please thanks thank hello dear hey than "
    "then also very really some more need help want know like does did doing".split()
)
SAME_SUBJECT_SIMILARITY = 0.3
# A message with fewer content words than this states no subject of its own: a chaser.
CHASER_MAX_WORDS = 3
CONFIDENCE = {
    JoinRule.REFERENCE: 0.99,
    JoinRule.LINK: 0.95,
    JoinRule.SAME_SUBJECT: 0.9,
    JoinRule.SAME_CUSTOMER: 0.7,
}


def case_reference(organization: Organization, number: int) -> str:
    """The reference earful adds to replies, e.g. #ER-1042."""
    return f"#{organization.case_prefix}-{number}"


def subject_words(text: str) -> frozenset[str]:
    """The content words of a text, for comparing subjects."""
    return frozenset(w for w in (m.lower() for m in WORD.findall(text)) if w not in STOPWORDS)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two word sets (0 when either is empty).

    Jaccard rather than overlap with the smaller set: a customer's habitual greeting and
    sign-off would otherwise make any two of their messages look alike.
    """
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def normalize_url(url: str) -> str:
    """A URL without fragment, trailing slash or trailing punctuation, for matching links."""
    return url.split("#", 1)[0].rstrip(".,;:!?/")


@dataclass
class Candidate:
    """A conversation a new message might join: stored, or started earlier in the same batch."""

    target: int | str  # a stored conversation's id, or a new group's key in this batch
    customer_id: int | None
    last_message_at: datetime
    words: frozenset[str]
    resolved: bool = False


@dataclass(frozen=True)
class Match:
    """Where a message belongs and why."""

    target: int | str
    rule: JoinRule
    confidence: float
    last_message_at: datetime


@dataclass
class Stitcher:
    """Finds the conversation for unlinked messages of one batch, with candidates preloaded."""

    organization: Organization
    by_reference: dict[int, Candidate] = field(default_factory=dict)
    by_url: dict[str, Candidate] = field(default_factory=dict)
    by_customer: dict[int, list[Candidate]] = field(default_factory=lambda: defaultdict(list))
    reference: re.Pattern[str] | None = None

    @classmethod
    def for_batch(cls, organization: Organization, firsts: Sequence[Message]) -> Stitcher:
        """Load every stored conversation the batch's unlinked messages could join."""
        stitcher = cls(organization)
        inbound = [m for m in firsts if m.direction == Direction.IN]
        if not inbound:
            return stitcher
        reference = re.compile(rf"#{re.escape(organization.case_prefix)}-(\d{{1,12}})\b", re.I)
        numbers = {int(n) for m in inbound for n in reference.findall(m.text)}
        live = Conversation.objects.filter(organization=organization).exclude(status=Status.MERGED)
        for conversation in live.filter(number__in=numbers):
            stitcher.by_reference[conversation.number] = _candidate(conversation)
        urls = {normalize_url(u) for m in inbound for u in URL.findall(m.text)}
        if urls:
            variants = urls | {f"{u}/" for u in urls}
            linked = Message.objects.filter(
                organization=organization, url__in=variants, conversation__isnull=False
            ).select_related("conversation")
            for message in linked:
                if message.conversation is not None:
                    conversation = message.conversation
                    stitcher.by_url[normalize_url(message.url)] = _candidate(conversation)
        customers = {m.identity.customer_id for m in inbound if m.identity is not None}
        if customers:
            earliest = min(m.created_at for m in inbound)
            window = timedelta(hours=organization.stitch_window_hours)
            for conversation in live.filter(
                customer_id__in=customers, last_message_at__gte=earliest - window
            ):
                if conversation.customer_id is not None:
                    stitcher.by_customer[conversation.customer_id].append(_candidate(conversation))
        stitcher.reference = reference
        return stitcher

    def match(self, message: Message) -> Match | None:
        """The best conversation for an unlinked message, or None to start a new one."""
        if message.direction != Direction.IN:
            return None
        if self.reference is not None:
            for number in self.reference.findall(message.text):
                candidate = self.by_reference.get(int(number))
                if candidate is not None:
                    return _match(candidate, JoinRule.REFERENCE)
        for url in URL.findall(message.text):
            candidate = self.by_url.get(normalize_url(url))
            if candidate is not None:
                return _match(candidate, JoinRule.LINK)
        if message.identity is None:
            return None
        window = timedelta(hours=self.organization.stitch_window_hours)
        recent = [
            c
            for c in self.by_customer.get(message.identity.customer_id, [])
            if timedelta(0) <= message.created_at - c.last_message_at <= window
        ]
        words = subject_words(message.text)
        similar = [c for c in recent if similarity(words, c.words) >= SAME_SUBJECT_SIMILARITY]
        if similar:
            return _match(max(similar, key=lambda c: c.last_message_at), JoinRule.SAME_SUBJECT)
        unresolved = [c for c in recent if not c.resolved]
        if unresolved and len(words) < CHASER_MAX_WORDS:
            best = max(unresolved, key=lambda c: c.last_message_at)
            return _match(best, JoinRule.SAME_CUSTOMER)
        return None

    def add_new(self, key: str, message: Message) -> None:
        """Offer a conversation started in this batch to the batch's later messages."""
        if message.identity is None or message.direction != Direction.IN:
            return
        self.by_customer[message.identity.customer_id].append(
            Candidate(
                key, message.identity.customer_id, message.created_at, subject_words(message.text)
            )
        )

    def touch(self, target: int | str, message: Message) -> None:
        """Record that a message joined a candidate, so later messages see it as recent."""
        for candidates in self.by_customer.values():
            for candidate in candidates:
                if candidate.target == target and message.created_at > candidate.last_message_at:
                    candidate.last_message_at = message.created_at
                    candidate.words = candidate.words | subject_words(message.text)


def _candidate(conversation: Conversation) -> Candidate:
    return Candidate(
        conversation.pk,
        conversation.customer_id,
        conversation.last_message_at,
        subject_words(conversation.subject),
        resolved=conversation.status == Status.RESOLVED,
    )


def _match(candidate: Candidate, rule: JoinRule) -> Match:
    return Match(candidate.target, rule, CONFIDENCE[rule], candidate.last_message_at)
