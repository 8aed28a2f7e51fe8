"""The promote-last rule on the written labeled set: Python and the database agree on all of it."""

from __future__ import annotations

from typing import Any

from earful.bench.promo import score, written_posts
from earful.conversations.models import Message
from earful.insights.promo import is_promotional, promotional_q
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record


def test_the_database_rule_agrees_with_the_python_rule_on_the_whole_written_set(
    org: Any, channel: Any
) -> None:
    posts = written_posts()
    ingest_batch(channel, numbered([record(f"w{n}", p.text) for n, p in enumerate(posts)]))
    counted = set(Message.objects.filter(promotional_q()).values_list("text", flat=True))
    assert counted == {p.text for p in posts if is_promotional(p.text)}


def test_the_rule_tells_most_sales_from_hard_engaging_posts() -> None:
    figures = score(written_posts(), is_promotional).as_dict()
    # Floors a little under today's figures: a change that loses much of either fails here.
    assert figures["recall"] >= 0.8
    assert figures["confusion"]["false_positive"] <= 2


def test_service_about_an_existing_order_is_not_promotional() -> None:
    assert not is_promotional("Your pre-order ships on Friday; the discount is on the invoice.")
    assert not is_promotional("Have a discount code? Here's how to redeem it.")
    assert is_promotional("Pre-order now and get 3 days of early access.")
