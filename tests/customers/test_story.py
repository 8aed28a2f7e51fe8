"""The customer's story: one timeline across identities, mood over time, detractor to advocate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from earful.channels.services import get_or_create_channel
from earful.customers.models import Identity
from earful.customers.story import sentiment_trend, timeline, turnaround, turnaround_rate
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record

ANN = {"external_id": "ann-x", "verified_email": "ann@example.org"}
BRAND = {"external_id": "acme"}


def _ann() -> Any:
    return Identity.objects.get(external_id="ann-x").customer


def test_the_timeline_spans_channels_and_our_replies(channel: Any, org: Any) -> None:
    email = get_or_create_channel(org, name="Email", kind="email")
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "t1",
                    "My internet is down again, this is awful",
                    author=ANN,
                    created_at="2026-11-01T10:00:00Z",
                ),
                record(
                    "t2",
                    "Sorry Ann, we are on it",
                    direction="out",
                    author=BRAND,
                    in_reply_to="t1",
                    created_at="2026-11-01T10:10:00Z",
                ),
            ]
        ),
    )
    ingest_batch(
        email,
        numbered(
            [
                record(
                    "e1",
                    "Thanks, it works now, great support!",
                    author={"external_id": "ann@example.org"},
                    created_at="2026-11-02T09:00:00Z",
                ),
            ]
        ),
    )

    assert list(timeline(_ann()).values_list("external_id", flat=True)) == ["t1", "t2", "e1"]
    trend = sentiment_trend(_ann())
    assert [day.isoformat() for day, _ in trend] == ["2026-11-01", "2026-11-02"]
    assert trend[0][1] < 0 < trend[1][1]


def test_a_detractor_who_turns_after_we_engage(channel: Any, org: Any) -> None:
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "1",
                    "Worst service ever, my order never came. Furious.",
                    author=ANN,
                    created_at="2026-11-01T10:00:00Z",
                ),
                record(
                    "2",
                    "So sorry, a new one ships today",
                    direction="out",
                    author=BRAND,
                    in_reply_to="1",
                    created_at="2026-11-01T12:00:00Z",
                ),
                record(
                    "3",
                    "Thank you so much, that is great news!",
                    author=ANN,
                    in_reply_to="2",
                    created_at="2026-11-01T15:00:00Z",
                ),
            ]
        ),
    )

    outcome = turnaround(_ann())

    assert outcome.started_negative and outcome.turned
    assert outcome.hours_to_turn == 3.0
    rate = turnaround_rate(
        org, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    )
    assert (rate.engaged_detractors, rate.turned, rate.rate) == (1, 1, 1.0)


def test_a_detractor_we_never_answered_is_not_engaged(channel: Any) -> None:
    ingest_batch(
        channel,
        numbered(
            [
                record("1", "Worst service ever, my order never came. Furious.", author=ANN),
            ]
        ),
    )

    outcome = turnaround(_ann())

    assert outcome.started_negative and outcome.engaged_at is None and not outcome.turned
