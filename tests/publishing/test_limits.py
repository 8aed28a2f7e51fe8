"""Each network's post limits: what a preview warns about before anything is sent."""

from __future__ import annotations

from earful.channels.models import ChannelKind
from earful.publishing.limits import too_long


def test_a_reddit_post_is_a_title_line_and_a_body() -> None:
    body = "What would you like to find there? " * 100

    assert too_long(ChannelKind.REDDIT, f"Our new Porto lounge opens Monday\n{body}") == ""
    assert too_long(ChannelKind.REDDIT, "t" * 301) == (
        "the first line is the Reddit title: 300 characters at most"
    )
    assert too_long(ChannelKind.REDDIT, "title\n" + "b" * 40_000).startswith(
        "Reddit allows 40000 characters"
    )
