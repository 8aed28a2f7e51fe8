"""The promote-last classifier: promotional posts push a purchase; the rest engage."""

from __future__ import annotations

from typing import Any

import pytest

from earful.conversations.models import Message
from earful.insights.promo import is_promotional, promotional_q
from tests.insights.conftest import NOW, say

POSTS = [
    ("20% off every plan this weekend only", True),
    ("Use code SPRING for a free month", True),
    ("Our summer sale starts Friday!", True),
    ("New Pixel 9: pre-order today from £29 a month", True),
    ("Limited time: double data on the family plan", True),
    ("Black Friday is here", True),
    ("Tip: restart your router after the update", False),
    ("We're sorry about the outage in Leeds, engineers are on site", False),
    ("What would you like to see in the app next?", False),
    ("Thanks to everyone who answered our survey", False),
    ("Our sales team is hiring in Bristol", False),
]


@pytest.mark.parametrize(("text", "promotional"), POSTS)
def test_posts_are_classified(text: str, promotional: bool) -> None:
    assert is_promotional(text) is promotional


def test_the_database_rule_agrees_with_the_python_rule(org: Any, channel: Any) -> None:
    for number, (text, _) in enumerate(POSTS):
        say(channel, f"p{number}", NOW, text)
    counted = set(Message.objects.filter(promotional_q()).values_list("text", flat=True))
    assert counted == {text for text, promotional in POSTS if promotional}
