"""Percentiles computed in the database agree with the textbook ones (linear interpolation)."""

from __future__ import annotations

import statistics

import pytest

from earful.insights.sql import percentiles_by_group


def values_sql(groups: dict[str, list[float]]) -> tuple[str, list[object]]:
    rows = [(g, v) for g, values in groups.items() for v in values]
    sql = " UNION ALL ".join("SELECT %s AS grp, %s AS secs" for _ in rows)
    return sql, [x for row in rows for x in row]


@pytest.mark.django_db
def test_median_and_p90_per_group_match_statistics() -> None:
    groups = {"a": [5.0, 1.0, 3.0, 2.0, 4.0], "b": [10.0, 40.0], "c": [7.0]}
    source, params = values_sql(groups)
    spreads = percentiles_by_group(source, params)
    for name, values in groups.items():
        expected = (
            statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else None
        )
        assert spreads[name].count == len(values)
        assert spreads[name].median == pytest.approx(statistics.median(values))
        assert spreads[name].p90 == pytest.approx(expected[-1] if expected else values[0])


@pytest.mark.django_db
def test_groups_without_values_are_absent() -> None:
    source, params = values_sql({"a": [1.0]})
    source = f"SELECT grp, secs FROM ({source}) s WHERE secs > 5"  # noqa: S608 - test literals
    assert set(percentiles_by_group(source, params)) == set()
