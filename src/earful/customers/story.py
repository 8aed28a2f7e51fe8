"""A customer's story: everything they said and were told, their mood, and whether it turned.

Detractor to advocate (the definition the insights use):
- a customer *started negative* when their first message to us was labeled negative;
- we *engaged* at our first reply in a conversation of theirs after that message;
- they *turned* at their first later message labeled neutral or positive.
The turnaround rate of an organization is, over customers who started negative in a
period and whom we engaged, the share who turned; time to turn is engaged -> turned.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet

from earful.conversations.models import Direction, Message, Sentiment
from earful.customers.models import Customer
from earful.org.models import Organization


def timeline(customer: Customer) -> QuerySet[Message]:
    """Every message the customer wrote, on any identity, and every one we wrote to them."""
    return (
        Message.objects.filter(organization_id=customer.organization_id)
        .filter(Q(identity__customer=customer) | Q(conversation__customer=customer))
        .select_related("channel", "identity", "conversation")
        .order_by("created_at", "id")
    )


def sentiment_trend(customer: Customer) -> list[tuple[date, float]]:
    """Per day, the mean of positive minus negative probability of what the customer wrote."""
    by_day: dict[date, list[float]] = defaultdict(list)
    rows = Message.objects.filter(
        identity__customer=customer, direction=Direction.IN, sentiment_scores__isnull=False
    ).values_list("created_at", "sentiment_scores")
    for created_at, scores in rows:
        if not isinstance(scores, dict):
            continue
        by_day[created_at.date()].append(
            float(scores.get("positive", 0.0)) - float(scores.get("negative", 0.0))
        )
    return [(day, sum(values) / len(values)) for day, values in sorted(by_day.items())]


@dataclass(frozen=True)
class Turnaround:
    """How a customer who started negative fared after we engaged."""

    started_negative: bool
    engaged_at: datetime | None
    turned_at: datetime | None

    @property
    def turned(self) -> bool:
        """Whether they wrote neutral or positive after we engaged."""
        return self.turned_at is not None

    @property
    def hours_to_turn(self) -> float | None:
        """Hours from our engagement to their turn, if they turned."""
        if self.engaged_at is None or self.turned_at is None:
            return None
        return (self.turned_at - self.engaged_at).total_seconds() / 3600


def turnaround(customer: Customer) -> Turnaround:
    """Whether the customer went from detractor towards advocate after we engaged."""
    messages = list(timeline(customer).filter(Q(direction=Direction.OUT) | ~Q(sentiment="")))
    inbound = [m for m in messages if m.direction == Direction.IN]
    if not inbound or inbound[0].sentiment != Sentiment.NEGATIVE:
        return Turnaround(False, None, None)
    first = inbound[0]
    engaged = next(
        (
            m.created_at
            for m in messages
            if m.direction == Direction.OUT and m.created_at >= first.created_at
        ),
        None,
    )
    if engaged is None:
        return Turnaround(True, None, None)
    turned = next(
        (
            m.created_at
            for m in inbound
            if m.created_at > engaged and m.sentiment in (Sentiment.NEUTRAL, Sentiment.POSITIVE)
        ),
        None,
    )
    return Turnaround(True, engaged, turned)


@dataclass(frozen=True)
class TurnaroundRate:
    """Of engaged customers who started negative in a period, how many turned and how fast."""

    engaged_detractors: int
    turned: int
    median_hours_to_turn: float | None

    @property
    def rate(self) -> float | None:
        """The share who turned, or None when nobody qualifies."""
        return self.turned / self.engaged_detractors if self.engaged_detractors else None


def turnaround_rate(organization: Organization, start: datetime, end: datetime) -> TurnaroundRate:
    """The organization's detractor-to-advocate rate for customers first heard in [start, end)."""
    first_heard = Customer.objects.filter(
        organization=organization,
        merged_into__isnull=True,
        identities__message__direction=Direction.IN,
    ).distinct()
    outcomes = []
    for customer in first_heard:
        outcome = turnaround(customer)
        first = timeline(customer).filter(direction=Direction.IN).first()
        if first is not None and start <= first.created_at < end and outcome.engaged_at:
            outcomes.append(outcome)
    hours = sorted(h for o in outcomes if (h := o.hours_to_turn) is not None)
    median = hours[len(hours) // 2] if hours else None
    return TurnaroundRate(len(outcomes), len(hours), median)
