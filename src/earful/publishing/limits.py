"""Which channels can carry a brand post, and how long a post each of them takes."""

from __future__ import annotations

import unicodedata

from django.db.models import QuerySet

from earful.channels.connector import connector_class
from earful.channels.models import Channel, ChannelKind, ChannelMode
from earful.org.models import Organization

# Kinds whose connector publishes a new top-level post when it answers nothing, and the
# platform's limit. Reddit is missing: a new submission needs a subreddit and a title, and
# its connector only comments.
POST_LIMITS: dict[str, int] = {
    ChannelKind.X: 280,
    ChannelKind.MASTODON: 500,
    ChannelKind.BLUESKY: 300,
    # A self post: its first line is the title (300 at most), the rest the body.
    ChannelKind.REDDIT: 40_000,
}
REDDIT_TITLE = 300
# Bluesky counts graphemes (what a reader sees as one character), the others code points.
GRAPHEME_KINDS = frozenset({ChannelKind.BLUESKY})
_ZWJ = "\u200d"


def graphemes(text: str) -> int:
    """User-perceived characters: marks, joiners, variation selectors and skin tones attach to
    the character before; a pair of regional indicators is one flag. (A close reading of
    Unicode's extended grapheme clusters for what posts contain, without a dependency.)"""
    count, joined, flag_open = 0, False, False
    for char in text:
        code = ord(char)
        if char == _ZWJ:
            joined = True
            continue
        attaches = (
            unicodedata.combining(char)
            or unicodedata.category(char) in ("Mn", "Me", "Mc")
            or 0xFE00 <= code <= 0xFE0F
            or 0x1F3FB <= code <= 0x1F3FF
            or 0xE0020 <= code <= 0xE007F
        )
        regional = 0x1F1E6 <= code <= 0x1F1FF
        if attaches or joined or (regional and flag_open):
            joined = False
            flag_open = False if regional else flag_open
            continue
        flag_open = regional
        count += 1
    return count


def length(kind: str, text: str) -> int:
    """The length of a post as the platform counts it."""
    return graphemes(text) if kind in GRAPHEME_KINDS else len(text)


def too_long(kind: str, text: str) -> str:
    """Why the text does not fit the kind's limit, or "" when it fits."""
    limit = POST_LIMITS.get(kind)
    if limit is None:
        return ""
    used = length(kind, text)
    # The connector also checks code points; a post must pass both to be sent.
    if used > limit or len(text) > limit:
        unit = "graphemes" if kind in GRAPHEME_KINDS else "characters"
        return f"{ChannelKind(kind).label} allows {limit} {unit}; this has {max(used, len(text))}"
    title = text.strip().partition("\n")[0]
    if kind == ChannelKind.REDDIT and len(title) > REDDIT_TITLE:
        return f"the first line is the Reddit title: {REDDIT_TITLE} characters at most"
    return ""


def can_publish(channel: Channel) -> bool:
    """Whether earful can post to the channel: a posting connector, credentials, engage mode."""
    return (
        channel.kind in POST_LIMITS
        and connector_class(channel.kind) is not None
        and bool(channel.settings)
        and channel.enabled
        and channel.mode == ChannelMode.ENGAGE
    )


def takes_media(channel: Channel) -> bool:
    """Whether earful uploads a post's images and video to this channel (Mastodon so far)."""
    cls = connector_class(channel.kind)
    return cls is not None and cls.takes_media


def publishable_channels(organization: Organization) -> list[Channel]:
    """The organization's channels a post can go to, by name."""
    found: QuerySet[Channel] = Channel.objects.filter(
        organization=organization,
        kind__in=list(POST_LIMITS),
        enabled=True,
        mode=ChannelMode.ENGAGE,
    ).order_by("name", "pk")
    return [channel for channel in found if can_publish(channel)]
