"""The social-business scorecard: seed 001's simple test answered with measured numbers.

Customers first (everyone answered, whatever their audience), all staff engaged (people
beyond the social team take part, hand-offs get answered), no silos (hand-offs come back
fast and the customer is told), plus detractors turned and promotion kept last. Each line
says what was measured, what it means, and what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from earful.insights import metrics, rollups, social
from earful.insights.tables import Table, Window, minutes, percent
from earful.org.models import Organization

GOOD, WATCH, ACT, UNKNOWN = "good", "watch", "act", "no data"
PROMOTE_LAST = "Promote last"


@dataclass(frozen=True)
class Score:
    """One line of the scorecard."""

    section: str
    name: str
    value: str
    status: str
    meaning: str
    todo: str


def _rate_status(value: float | None, good: float, watch: float) -> str:
    if value is None:
        return UNKNOWN
    return GOOD if value >= good else WATCH if value >= watch else ACT


def _fmt(value: float | None, unit: str) -> str:
    return "no data" if value is None else f"{value:g}{unit}"


def scorecard(window: Window, now: datetime, promotion: Score | None = None) -> list[Score]:
    """Every line of the scorecard for the window (promotion always over the last 30 days;
    `promotion` is that line when the caller has a recent one)."""
    # A chosen range of whole days adds up its daily rollups; anything else is computed live.
    reader = rollups.reader(window)
    if reader is not None:
        rate_table, fairness = reader.response_rate(), reader.fairness()
        who, turned = reader.participation(), reader.turnaround()
    else:
        rate_table, fairness = metrics.response_rate(window), social.fairness(window)
        who, turned = social.participation(window), social.turnaround(window)
    rate = rate_table.rows[0][3] if rate_table.rows else None
    response_rate = float(rate) if isinstance(rate, int | float) else None
    gap = social.fairness_gap(fairness)
    answered = percent(who.handoffs_answered, who.handoffs)
    told = percent(who.reported_back, who.fixed)
    round_trip = minutes(who.handoff_round_trip.median) if who.handoff_round_trip else None
    gap_status = UNKNOWN if gap is None else GOOD if gap <= 5 else WATCH if gap <= 15 else ACT
    return [
        Score(
            "Customers first",
            "Response rate, all customers",
            _fmt(response_rate, " %"),
            _rate_status(response_rate, 90, 70),
            "Of the conversations customers started, how many got an answer from us.",
            "Work the Unanswered queue oldest first; add people at the busiest hours.",
        ),
        Score(
            "Customers first",
            "Fairness gap by audience",
            _fmt(gap, " points"),
            gap_status,
            "The response rate of the best-served audience bucket minus the worst-served: "
            "small accounts should be answered as often as those with 100k followers.",
            "Sort the queue by age, not by follower count; check who waits in the smallest bucket.",
        ),
        Score(
            "Customers first",
            "Detractors turned",
            "no engaged detractors yet"
            if turned.rate is None
            else f"{turned.rate:g} % of {turned.engaged_detractors}"
            + (f", median {turned.median_hours:g} h" if turned.median_hours is not None else ""),
            _rate_status(turned.rate, 50, 25),
            "Customers whose first message was negative and whom we answered: how many later "
            "wrote something neutral or positive, and how long it took.",
            "Answer complaints first and follow up after the fix.",
        ),
        Score(
            "All staff engaged",
            "People who took part",
            f"{who.people} ({who.beyond_social_team} beyond the social team)"
            if who.people
            else "nobody recorded",
            UNKNOWN if not who.people else GOOD if who.beyond_social_team else WATCH,
            "Staff who replied, wrote a note or answered a hand-off; beyond the social team "
            "means anyone outside Support and Social.",
            "Hand off questions to IT, Legal or R&D instead of answering around them.",
        ),
        Score(
            "All staff engaged",
            "Hand-offs answered",
            f"{answered:g} % of {who.handoffs}" if answered is not None else "no hand-offs yet",
            _rate_status(answered, 90, 60),
            "Of the questions passed to other departments, how many they answered.",
            "Remind departments of open hand-offs; set a due time on each.",
        ),
        Score(
            "No silos",
            "Hand-off round trip (median)",
            _fmt(round_trip, " min"),
            UNKNOWN if round_trip is None else GOOD if round_trip <= 240 else WATCH,
            "From passing a question to another department to their answer.",
            "Agree a response time with each department and show it on their queue.",
        ),
        Score(
            "No silos",
            "Reported back to the customer",
            f"{told:g} % of {who.fixed} fixed" if told is not None else "nothing fixed yet",
            _rate_status(told, 95, 75),
            "Of the problems a department fixed, how many customers were told.",
            "Use the report-back prompt on each fixed hand-off: a fix nobody hears of is lost.",
        ),
        promotion or promotion_line(window.organization, now),
    ]


def promotion_line(organization: Organization, now: datetime) -> Score:
    """The promote-last line: our promotional share over the last 30 days."""
    promo = social.promote_last(organization, now)
    return Score(
        PROMOTE_LAST,
        "Promotional share of our posts (30 days)",
        f"{promo.share:g} % of {promo.posts} posts"
        if promo.share is not None
        else "no posts of ours",
        UNKNOWN if promo.share is None else ACT if promo.warning else GOOD,
        f"Posts of ours that push a sale or offer; above {promo.threshold:.0%} "
        "followers feel pushed and leave.",
        "Post answers, tips and thanks; keep offers for after the conversation.",
    )


def scorecard_table(window: Window, now: datetime) -> Table:
    """The scorecard as a table (for CSV and the API)."""
    return Table(
        "scorecard",
        "Social-business scorecard",
        ("section", "measure", "value", "status", "what it means", "what to do"),
        [[s.section, s.name, s.value, s.status, s.meaning, s.todo] for s in scorecard(window, now)],
    )
