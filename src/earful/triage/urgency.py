"""The routing urgency score: one documented, pure formula (see docs/models.md)."""

from __future__ import annotations

import math

# Weight of each factor: how far it alone can push urgency (before normalization).
W_NEGATIVE = 0.35
W_COMPLAINT = 0.45
W_AUDIENCE = 0.30
W_GROWTH = 0.25
W_WAIT = 0.40
# Audience saturates at 10**AUDIENCE_DECADES followers (1,000,000: a big account).
AUDIENCE_DECADES = 6.0
# A thread growing by GROWTH_SCALE messages/hour is at 63% of its growth factor.
GROWTH_SCALE = 6.0
# Waiting WAIT_HALF_SECONDS unanswered gives half the wait factor (the 1-hour response goal).
WAIT_HALF_SECONDS = 3600.0

_MAX = 1.0 - (1 - W_NEGATIVE) * (1 - W_COMPLAINT) * (1 - W_AUDIENCE) * (1 - W_GROWTH) * (1 - W_WAIT)


def _unit(x: float) -> float:
    """Clamp to [0, 1]; NaN counts as 0 so a missing signal never raises urgency."""
    if x != x:  # NaN
        return 0.0
    return min(1.0, max(0.0, float(x)))


def urgency(
    negativity: float,
    complaint: float,
    audience: float = 0.0,
    thread_rate: float = 0.0,
    waited_seconds: float = 0.0,
) -> float:
    """Return routing urgency in [0, 1] from mood, audience, thread growth and waiting time.

    Each factor f_i in [0, 1] is a "noisy-OR" cause weighted by w_i:
        urgency = (1 - prod(1 - w_i * f_i)) / (1 - prod(1 - w_i))
    with f_negative = P(negative), f_complaint = complaint score,
    f_audience = log10(1 + followers) / 6 (capped at 1),
    f_growth = 1 - exp(-messages_per_hour / 6), f_wait = 1 - 2 ** (-waited / 1 h).
    So urgency is 0 for a calm, fresh, unseen message, 1 when every factor is at its maximum,
    rises with every input, and no single factor can max it out alone.
    """
    f_neg = _unit(negativity)
    f_comp = _unit(complaint)
    aud = max(0.0, audience) if audience == audience else 0.0
    f_aud = _unit(math.log10(1.0 + min(aud, 1e15)) / AUDIENCE_DECADES)
    rate = max(0.0, thread_rate) if thread_rate == thread_rate else 0.0
    f_grow = _unit(1.0 - math.exp(-min(rate, 1e6) / GROWTH_SCALE))
    wait = max(0.0, waited_seconds) if waited_seconds == waited_seconds else 0.0
    f_wait = _unit(1.0 - 2.0 ** (-min(wait, 1e9) / WAIT_HALF_SECONDS))
    keep = (
        (1 - W_NEGATIVE * f_neg)
        * (1 - W_COMPLAINT * f_comp)
        * (1 - W_AUDIENCE * f_aud)
        * (1 - W_GROWTH * f_grow)
        * (1 - W_WAIT * f_wait)
    )
    return _unit((1.0 - keep) / _MAX)
