"""The urgency formula: bounds, monotonicity, and the documented anchor points."""

from __future__ import annotations

import math

import pytest

from earful.triage import urgency


def test_calm_fresh_message_is_zero() -> None:
    assert urgency(0.0, 0.0) == 0.0


def test_everything_maxed_is_one() -> None:
    assert urgency(1.0, 1.0, audience=1e7, thread_rate=1e4, waited_seconds=1e8) == pytest.approx(
        1.0, abs=1e-6
    )


def test_no_single_factor_maxes_it_out() -> None:
    for kwargs in ({"negativity": 1.0, "complaint": 0.0}, {"negativity": 0.0, "complaint": 1.0}):
        assert urgency(**kwargs) < 0.6
    assert urgency(0, 0, audience=1e9) < 0.5
    assert urgency(0, 0, waited_seconds=1e9) < 0.6


@pytest.mark.parametrize(
    "field", ["negativity", "complaint", "audience", "thread_rate", "waited_seconds"]
)
def test_monotonic_in_every_input(field: str) -> None:
    base = {
        "negativity": 0.3,
        "complaint": 0.3,
        "audience": 100.0,
        "thread_rate": 1.0,
        "waited_seconds": 600.0,
    }
    scale = {
        "negativity": 1,
        "complaint": 1,
        "audience": 1e6,
        "thread_rate": 50,
        "waited_seconds": 86400,
    }[field]
    values = []
    for step in range(11):
        kw = dict(base)
        kw[field] = scale * step / 10
        values.append(urgency(**kw))
    assert values == sorted(values)
    assert values[-1] > values[0]


def test_wait_half_life() -> None:
    # The wait factor is half its weight after one hour.
    from earful.triage import urgency as mod_u
    from earful.triage.urgency import _MAX, W_WAIT

    assert mod_u(0, 0, waited_seconds=3600) == pytest.approx(W_WAIT * 0.5 / _MAX)


def test_angry_complaint_from_big_account_waiting_beats_mild_one() -> None:
    hot = urgency(0.9, 0.95, audience=250_000, thread_rate=12, waited_seconds=2 * 3600)
    mild = urgency(0.2, 0.1, audience=40, thread_rate=0, waited_seconds=300)
    assert hot > 0.8 > 0.3 > mild


@pytest.mark.parametrize("bad", [math.nan, -5.0, math.inf, -math.inf, 1e300])
def test_garbage_inputs_stay_in_range(bad: float) -> None:
    for args in ((bad, 0.5), (0.5, bad)):
        u = urgency(*args, audience=bad, thread_rate=bad, waited_seconds=bad)
        assert 0.0 <= u <= 1.0 and not math.isnan(u)
