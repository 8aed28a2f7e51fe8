"""Promotional or engaging: the promote-last classifier for the brand's own posts.

A rule, not a model, so that anyone can read why a post counted: a post is promotional
when it names a sale, a price cut, a code, a call to buy, or a launch to buy into; every
other post (answers, tips, questions to the community, thanks, outage notices) is
engaging. The same phrases run in Python (`is_promotional`, for one post) and in the
database (`promotional_q`, to count thirty days of posts in one query), and a test checks
that the two agree.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q

# Lower-case phrases; matching is a case-insensitive substring test.
PROMOTIONAL_PHRASES: tuple[str, ...] = (
    "% off",
    "percent off",
    "on sale",
    "flash sale",
    "sale ends",
    "sale starts",
    "summer sale",
    "winter sale",
    "black friday",
    "discount",
    "promo code",
    "coupon",
    "use code",
    "buy now",
    "shop now",
    "order now",
    "book now",
    "sign up today",
    "upgrade today",
    "upgrade now",
    "limited time",
    "limited offer",
    "special offer",
    "exclusive offer",
    "free trial",
    "deal of",
    "deals",
    "pre-order",
    "preorder",
    "giveaway",
    "don't miss",
    "only £",
    "only $",
    "only €",
    "just £",
    "just $",
    "just €",
    "from £",
    "from $",
    "from €",
)


def is_promotional(text: str) -> bool:
    """Whether a post of ours pushes something to buy (the rule above)."""
    lowered = text.lower()
    return any(phrase in lowered for phrase in PROMOTIONAL_PHRASES)


def promotional_q(field: str = "text") -> Q:
    """The same rule as a database filter on a text column."""
    return reduce(or_, (Q(**{f"{field}__icontains": p}) for p in PROMOTIONAL_PHRASES))
