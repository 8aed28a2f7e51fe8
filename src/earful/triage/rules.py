"""Transparent rules on top of the learned scores: question, praise, topic, intent, needs_reply.

These are rules on purpose: the public data has no large labeled set for them that matches
brand mentions, and a rule an agent can read is easier to trust and to correct. Their
measured agreement with the labeled sets is in docs/models.md.
"""

from __future__ import annotations

import itertools
import re

from earful.triage.labels import Intent


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WORD = re.compile(r"[a-z0-9']+")
# A question mark right after a word ("where is it?"), not a lone "?!!!" outburst.
_QMARK = re.compile(r"\w[\"')\]]?\s*\?")
_EMOJI_PRAISE = re.compile(
    "[\u2764\u2665\U0001f495\U0001f496\U0001f499\U0001f4af"
    "\U0001f44f\U0001f64c\U0001f64f\U0001f60d\U0001f970]"
)

# Phrases that ask even without a '?' (lower-case word n-grams).
_ASK_PHRASES = frozenset(
    (
        "anyone know",
        "anybody know",
        "does anyone",
        "can you",
        "can u",
        "can someone",
        "can anyone",
        "could you",
        "could u",
        "could someone",
        "could anyone",
        "please advise",
        "please help",
        "please tell",
        "please confirm",
        "let me know",
        "want to know",
        "need to know",
        "like to know",
        "wondering if",
        "wondering whether",
        "wondering why",
        "wondering how",
        "wondering when",
        "how do",
        "how can",
        "how long",
        "how much",
        "how come",
        "is there",
        "are there",
        "what's the",
        "what is",
        "where is",
        "where's my",
        "why is",
        "why does",
        "why do",
        "when will",
        "when is",
    )
)

_PRAISE_WORDS = _wordset(
    "thank thanks thanx thx ty love loving loved great awesome amazing excellent brilliant "
    "fantastic superb outstanding perfect wonderful impressed appreciate appreciated "
    "appreciates kudos helpful best fab grateful cheers legend legends hero heroes "
    "shoutout"
)
_PRAISE_PHRASES = frozenset(
    ("well done", "good job", "great job", "shout out", "5 stars", "five stars", "thank you")
)

# Topic/aspect keywords (whole words or two-word phrases of the lower-cased text). When
# several topics match, the one listed first wins: specific before general.
_TOPIC_TABLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("baggage", "bag bags baggage luggage suitcase suitcases carryon", ("carry on",)),
    (
        "delivery",
        "deliver delivery delivered delivering deliveries shipping shipped shipment courier "
        "parcel parcels package packages tracking dispatch dispatched postman",
        (
            "order status",
            "not arrived",
            "hasn't arrived",
            "hasnt arrived",
            "never arrived",
            "haven't received",
            "never received",
            "not received",
        ),
    ),
    ("delay", "delay delayed delays late tarmac", ("missed connection", "flight cancelled")),
    (
        "refund",
        "refund refunds refunded reimburse reimbursed reimbursement chargeback",
        ("money back",),
    ),
    ("return", "return returns returned returning exchange replacement", ()),
    (
        "cancellation",
        "cancel canceled cancelled canceling cancelling cancellation cancels unsubscribe",
        (),
    ),
    (
        "billing",
        "bill billed billing bills charge charged charges charging payment payments paid pay "
        "invoice card overcharged overcharge fee fees price pricing transaction transfer balance",
        ("direct debit", "top up", "exchange rate"),
    ),
    (
        "subscription",
        "subscription subscribe subscribed premium prime membership renew renewal "
        "renewed plan trial",
        ("free trial",),
    ),
    (
        "account",
        "account accounts login logged password username verify verified verification identity "
        "profile 2fa pin hacked",
        ("log in", "sign in", "locked out", "two factor"),
    ),
    (
        "booking",
        "book booked booking reservation reserve reserved seat seats ticket tickets "
        "itinerary rebook rebooked upgrade",
        (),
    ),
    (
        "staff",
        "staff employee employees crew attendant attendants agent agents rep reps representative "
        "cashier manager driver pilot rude unhelpful",
        ("customer service", "customer support", "support team"),
    ),
    (
        "product_bug",
        "bug bugs crash crashes crashed crashing freeze freezes freezing frozen glitch glitches "
        "glitchy broken error errors update ios app battery unresponsive",
        ("not working", "doesn't work", "won't load", "won't open", "won't work", "keeps crashing"),
    ),
    (
        "connectivity",
        "wifi internet signal outage network connection connect offline",
        ("no service", "service down"),
    ),
    ("food", "food meal meals drink drinks coffee snack snacks menu", ()),
)
TOPICS: tuple[str, ...] = tuple(name for name, _, _ in _TOPIC_TABLE)
_TOPIC_RANK: dict[str, int] = {}
for _rank, (_name, _words, _phrases) in enumerate(_TOPIC_TABLE):
    for _key in (*_words.split(), *_phrases):
        _TOPIC_RANK.setdefault(_key, _rank)


_TOPIC_KEYS = frozenset(_TOPIC_RANK)


def _grams(words: list[str]) -> list[str]:
    return [f"{a} {b}" for a, b in itertools.pairwise(words)]


_INTENT_ORDER: tuple[Intent, ...] = ("complaint", "suggestion", "question", "praise", "other")


def words_of(text: str) -> list[str]:
    """Lower-case words and two-word phrases of normalized text (shared by the rules)."""
    words = _WORD.findall(text)
    return words + _grams(words)


def is_question(text: str, words: list[str] | None = None) -> bool:
    """True when the (normalized) text asks: a '?' after a word, or an ask phrase."""
    if "?" in text and _QMARK.search(text):
        return True
    keys = words_of(text) if words is None else words
    return not _ASK_PHRASES.isdisjoint(keys)


def is_praise(text: str, positive: float, complaint: bool, words: list[str] | None = None) -> bool:
    """True for a positive, non-complaint message that thanks or compliments."""
    if complaint or positive < 0.5:
        return False
    keys = words_of(text) if words is None else words
    return (
        not _PRAISE_WORDS.isdisjoint(keys)
        or not _PRAISE_PHRASES.isdisjoint(keys)
        or _EMOJI_PRAISE.search(text) is not None
    )


def topic(text: str, words: list[str] | None = None) -> str | None:
    """Return the topic whose keywords appear (first listed wins), or None."""
    keys = words_of(text) if words is None else words
    hits = _TOPIC_KEYS.intersection(keys)
    if not hits:
        return None
    return TOPICS[min(_TOPIC_RANK[k] for k in hits)]


def intent(complaint: bool, suggestion: bool, question: bool, praise: bool) -> Intent:
    """Return the single intent: complaint > suggestion > question > praise > other.

    A complaint phrased as a question ("why is my order late?") is handled as a complaint;
    "could you add dark mode?" is a suggestion rather than a question.
    """
    flags = {
        "complaint": complaint,
        "suggestion": suggestion,
        "question": question,
        "praise": praise,
        "other": True,
    }
    return next(i for i in _INTENT_ORDER if flags[i])


def needs_reply(complaint: bool, question: bool, suggestion: bool, negative: float) -> bool:
    """True when a brand should answer: a complaint, a question, a suggestion, or clear anger."""
    return complaint or question or suggestion or negative >= 0.6
