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


_COMPILED = tuple((rule, re.compile("|".join(rule.patterns), re.IGNORECASE)) for rule in RULES)


def check_tone(text: str, *, forbidden: tuple[str, ...] = ()) -> ToneCheck:
    """Flag hostile, defensive, sarcastic, customer-blaming or forbidden-promise wording.

    `forbidden` adds an organization's own forbidden promises (plain phrases).
    """
    flags: list[ToneFlag] = []
    rewrite = text
    for rule, pattern in _COMPILED:
        for match in pattern.finditer(text):
            flags.append(ToneFlag(rule.category, rule.reason, match.group(0)))
        rewrite = pattern.sub(rule.replacement, rewrite)
    for phrase in forbidden:
        if phrase.strip() and phrase.lower() in text.lower():
            flags.append(ToneFlag("forbidden_promise", "promises what policy forbids", phrase))
            rewrite = re.sub(re.escape(phrase), "what we can offer", rewrite, flags=re.IGNORECASE)
    if not flags:
        return ToneCheck((), "")
    rewrite = re.sub(r"!{2,}", "!", rewrite)
    if rewrite.isupper():
        rewrite = rewrite.capitalize()
    if not re.search(r"\b(?:sorry|apologi[sz]e)\b", rewrite, re.IGNORECASE):
        rewrite = f"{APOLOGY} {rewrite}"
    return ToneCheck(tuple(flags), " ".join(rewrite.split()))
