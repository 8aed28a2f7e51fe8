"""The tone guard: flags a draft that could start a flame war, with the reason and a rewrite.

Pure: text in, flags out (no Django). The agent can always send anyway; the guard only
warns. Rules are phrase lists because each flag must say exactly which words it saw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

APOLOGY = "I'm sorry for the trouble this has caused."


@dataclass(frozen=True)
class Rule:
    """A kind of risky wording: the phrases that show it and what to say instead."""

    category: str
    reason: str
    patterns: tuple[str, ...]
    replacement: str


RULES: tuple[Rule, ...] = (
    Rule(
        "hostile",
        "insults or attacks the customer",
        (
            r"\bstupid\b",
            r"\bidiot\w*",
            r"\bdumb\b",
            r"\bshut up\b",
            r"\bridiculous\b",
            r"\bpathetic\b",
            r"\bmoron\w*",
            r"\bget lost\b",
            r"\bwhatever\b",
            r"\bstop (?:whining|complaining)\b",
            r"\bnonsense\b",
        ),
        "I understand this is frustrating",
    ),
    Rule(
        "customer_blaming",
        "blames the customer for the problem",
        (
            r"\byour (?:own )?fault\b",
            r"\byou should have\b",
            r"\byou failed to\b",
            r"\buser error\b",
            r"\bif you had (?:read|followed)\b",
            r"\byou obviously\b",
            r"\byou didn'?t (?:read|follow)\b",
            r"\bas (?:we|i) already (?:said|told you)\b",
        ),
        "let's sort this out together",
    ),
    Rule(
        "defensive",
        "defends us instead of helping",
        (
            r"\bnot our fault\b",
            r"\bnot our problem\b",
            r"\bnothing (?:we|i) can do\b",
            r"\bthat'?s (?:just )?(?:our|the) policy\b",
            r"\bwe did nothing wrong\b",
            r"\bno one else (?:has|is having) (?:this|that) (?:problem|issue)\b",
            r"\bworks fine (?:for|on) our (?:end|side)\b",
        ),
        "let me look into what we can do",
    ),
    Rule(
        "sarcastic",
        "reads as sarcasm",
        (
            r"\bthanks a lot\b",
            r"\boh,? (?:great|wonderful|sure)\b",
            r"\bgood luck with that\b",
            r"\bwow,? just wow\b",
            r"\bclearly you\b",
            r"\bnice try\b",
            r"\bsure you did\b",
            r"\bcongratulations on\b",
        ),
        "thank you for telling us",
    ),
    Rule(
        "forbidden_promise",
        "promises what policy does not allow",
        (
            r"\b(?:we|i) guarantee\b",
            r"\bguaranteed?\b",
            r"\bi promise\b",
            r"\bfull refund\b",
            r"\bfree (?:for life|forever)\b",
            r"\bwill never happen again\b",
            r"\bcompensat\w+\b",
        ),
        "we'll do our best to put this right",
    ),
)


@dataclass(frozen=True)
class ToneFlag:
    """One problem with a draft: which kind, why, and the words that showed it."""

    category: str
    reason: str
    phrase: str


@dataclass(frozen=True)
class ToneCheck:
    """The guard's verdict on a draft: its flags and a suggested rewrite (empty if clean)."""

    flags: tuple[ToneFlag, ...]
    suggestion: str

    @property
    def ok(self) -> bool:
        """Whether nothing was flagged."""
        return not self.flags


SENTENCE = re.compile(r"(?<=[.!?])\s+")
_COMPILED = tuple((rule, re.compile("|".join(rule.patterns), re.IGNORECASE)) for rule in RULES)


def check_tone(text: str, *, forbidden: tuple[str, ...] = ()) -> ToneCheck:
    """Flag hostile, defensive, sarcastic, customer-blaming or forbidden-promise wording.

    `forbidden` adds an organization's own forbidden promises (plain phrases).
    """
    flags: list[ToneFlag] = []
    for rule, pattern in _COMPILED:
        flags.extend(
            ToneFlag(rule.category, rule.reason, m.group(0)) for m in pattern.finditer(text)
        )
    own = [p for p in forbidden if p.strip() and p.lower() in text.lower()]
    flags.extend(ToneFlag("forbidden_promise", "promises what policy forbids", p) for p in own)
    if not flags:
        return ToneCheck((), "")
    return ToneCheck(tuple(flags), _rewrite(text, own))


def _rewrite(text: str, own: list[str]) -> str:
    """Keep the sentences that were fine; say each flagged thing the constructive way."""
    kept: list[str] = []
    instead: list[str] = []
    for sentence in SENTENCE.split(" ".join(text.split())):
        hits = [rule for rule, pattern in _COMPILED if pattern.search(sentence)]
        if any(p.lower() in sentence.lower() for p in own):
            hits.append(RULES[-1])
        if not hits:
            kept.append(sentence)
        instead.extend(r.replacement for r in hits if r.replacement not in instead)
    said = " ".join(kept)
    if said.isupper():
        said = said.capitalize()
    parts = [] if re.search(r"\b(?:sorry|apologi[sz]e)\b", said, re.IGNORECASE) else [APOLOGY]
    parts += [f"{line[0].upper()}{line[1:]}." for line in instead]
    return " ".join([*parts, re.sub(r"!{2,}", "!", said)]).strip()
