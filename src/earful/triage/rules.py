"""Transparent rules on top of the learned scores: question, praise, topic, intent, needs_reply.

These are rules on purpose: the public data has no large labeled set for them that matches
brand mentions, and a rule an agent can read is easier to trust and to correct. Their
measured agreement with the labeled sets is in docs/models.md.
"""

from __future__ import annotations

import re

from earful.triage.labels import Intent

_QUESTION_START = re.compile(
    r"^(?:@user\s+)*(?:hi|hello|hey|dear)?[\s,!.]*"
    r"(?:how|what|when|where|why|who|which|whats|what's|wheres|where's|hows|how's|is|are|am|"
    r"was|were|do|does|did|can|could|would|will|should|shall|may|has|have|had|any\s*one|"
    r"anybody|someone|somebody|is\s+there)\b",
    re.IGNORECASE,
)
_QUESTION_ASK = re.compile(
    r"\b(?:any\s*one\s+know|anybody\s+know|does\s+anyone|can\s+(?:you|u|someone|anyone)|"
    r"could\s+(?:you|u|someone|anyone)|please\s+(?:advise|help|tell|let\s+me\s+know|confirm)|"
    r"i\s+(?:want|need|would\s+like)\s+to\s+know|wondering\s+(?:if|whether|why|how|when)|"
    r"how\s+(?:do|can|long|much|come)|let\s+me\s+know\s+(?:if|when|how|why))\b",
    re.IGNORECASE,
)
# A question mark inside a URL or a "?!!!" outburst is not an ask on its own.
_QMARK = re.compile(r"\w[\"')\]]?\s*\?")

_PRAISE = re.compile(
    r"\b(?:thank(?:s|\s+you|\s+u)?|thx|ty|love|loving|loved|great|awesome|amazing|excellent|"
    r"brilliant|fantastic|superb|outstanding|perfect|wonderful|impressed|appreciate[ds]?|kudos|"
    r"shout\s*out|well\s+done|good\s+job|great\s+job|helpful|best|fab|grateful|cheers|"
    r"legend|heroes?|5\s+stars?|five\s+stars?)\b|[❤♥💕💖💙💯👏🙌🙏😍🥰]",
    re.IGNORECASE,
)

# Topic/aspect keywords, first match wins (ordered from specific to general). Regexes over
# the normalized (lower-case) text; word stems keep the lists short.
TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("baggage", r"\b(?:bag|bags|baggage|luggage|suitcase|carry[- ]?on|checked\s+in\s+bag)"),
        (
            "delay",
            r"\b(?:delay(?:ed|s)?|late|cancel+ed\s+flight|missed\s+(?:my\s+)?connection|"
            r"on\s+the\s+tarmac|still\s+waiting\s+(?:to|for\s+(?:the\s+)?(?:flight|train|bus)))\b",
        ),
        (
            "delivery",
            r"\b(?:deliver(?:y|ed|ing|ies)?|shipping|shipped|shipment|courier|parcel|package|"
            r"tracking|dispatch(?:ed)?|arrived?|not\s+arrived|driver|postman|order\s+status)\b",
        ),
        ("refund", r"\b(?:refund(?:s|ed)?|money\s+back|reimburse\w*|chargeback)\b"),
        (
            "return",
            r"\b(?:return(?:s|ed|ing)?\s+(?:an?\s+|the\s+|my\s+)?(?:item|order|product|it)|"
            r"exchange|replacement)\b",
        ),
        (
            "cancellation",
            r"\b(?:cancel(?:l?ed|l?ing|lation|s)?|unsubscribe)\b",
        ),
        (
            "billing",
            r"\b(?:bill(?:ed|ing|s)?|charg(?:e|ed|es|ing)|payment|paid|pay|invoice|card|"
            r"overcharg\w*|fee|fees|price|pricing|transaction|direct\s+debit|top\s*up|"
            r"transfer|balance|exchange\s+rate)\b",
        ),
        (
            "subscription",
            r"\b(?:subscription|subscribe[ds]?|premium|prime|membership|renew\w*|plan|"
            r"free\s+trial|trial)\b",
        ),
        (
            "account",
            r"\b(?:account|log\s*in|login|logged\s+out|sign\s*in|password|username|"
            r"verif\w+|identity|profile|locked\s+out|two[- ]factor|2fa|pin)\b",
        ),
        (
            "booking",
            r"\b(?:book(?:ed|ing)?|reservation|reserve[ds]?|seat|seats|ticket|tickets|"
            r"itinerary|rebook\w*|upgrade)\b",
        ),
        (
            "staff",
            r"\b(?:staff|employee|crew|attendant|agent|rep|representative|cashier|manager|"
            r"driver|pilot|rude|unhelpful|customer\s+service|customer\s+support|support\s+team)\b",
        ),
        (
            "product_bug",
            r"\b(?:bug|bugs|crash\w*|freez\w*|glitch\w*|broken|not\s+working|doesn'?t\s+work|"
            r"won'?t\s+(?:load|open|work|connect)|error|update|ios\s*\d*|app|battery|"
            r"unresponsive|keeps\s+(?:crashing|stopping))\b",
        ),
        (
            "connectivity",
            r"\b(?:wifi|wi-fi|internet|signal|outage|network|service\s+down|no\s+service|"
            r"connection|connect)\b",
        ),
        ("food", r"\b(?:food|meal|drink|coffee|snack|menu|cold\s+food)\b"),
    )
)

_INTENT_ORDER: tuple[Intent, ...] = ("complaint", "suggestion", "question", "praise", "other")


def is_question(text: str) -> bool:
    """True when the (normalized) text asks something: a '?' after a word, or an ask phrase."""
    return bool(
        _QMARK.search(text)
        or _QUESTION_ASK.search(text)
        or (_QUESTION_START.search(text) and "?" in text)
    )


def is_praise(text: str, positive: float, complaint: bool) -> bool:
    """True for a positive, non-complaint message that thanks or compliments."""
    return (not complaint) and positive >= 0.5 and _PRAISE.search(text) is not None


def topic(text: str) -> str | None:
    """Return the first matching topic keyword group, or None."""
    for name, pattern in TOPICS:
        if pattern.search(text):
            return name
    return None


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
