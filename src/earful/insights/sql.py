"""Portable SQL pieces the metrics share: seconds between two times, percentiles by group.

Percentiles are computed in the database with window functions (ROW_NUMBER and COUNT over
each group, both SQLite and PostgreSQL have them), so only the two rows around each
percentile leave the database, never one row per message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import CharField, Func

# The percentiles every duration metric reports.
PERCENTILES = (0.5, 0.9)


def seconds_between(later: str, earlier: str) -> str:
    """An SQL expression: seconds from column `earlier` to column `later`."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run a read-only query and return its rows."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@dataclass(frozen=True)
class Spread:
    """How many values a group has and its median and 90th percentile (in seconds)."""

    count: int
    median: float | None
    p90: float | None


def percentiles_by_group(source: str, params: Sequence[Any]) -> dict[str, Spread]:
    """Median and p90 of `secs` per `grp` of a subquery selecting (grp, secs).

    Linear interpolation between the two closest ranks (as numpy and PostgreSQL's
    percentile_cont do): rank r = (n - 1) * p, value = v[floor r] + frac(r) * (v[floor r + 1]
    - v[floor r]).
    """
    conditions = " OR ".join(
        f"(rn BETWEEN {_floor(f'(n - 1) * {p}')} + 1 AND {_floor(f'(n - 1) * {p}')} + 2)"
        for p in PERCENTILES
    )
    sql = f"""
        SELECT grp, secs, rn, n FROM (
            SELECT grp, secs,
                   ROW_NUMBER() OVER (PARTITION BY grp ORDER BY secs) AS rn,
                   COUNT(*) OVER (PARTITION BY grp) AS n
            FROM ({source}) AS source WHERE secs IS NOT NULL
        ) AS ranked WHERE {conditions}
    """  # noqa: S608 - only our own fragments are formatted in; values are parameters
    ranked: dict[str, dict[int, float]] = {}
    sizes: dict[str, int] = {}
    for group, secs, rank, size in fetch(sql, params):
        name = "" if group is None else str(group)
        ranked.setdefault(name, {})[int(rank)] = float(secs)
        sizes[name] = int(size)
    return {
        name: Spread(sizes[name], *(_interpolate(ranks, sizes[name], p) for p in PERCENTILES))
        for name, ranks in ranked.items()
    }


def _floor(expression: str) -> str:
    # SQLite's CAST truncates (floor, for the non-negative ranks here); PostgreSQL's rounds.
    if connection.vendor == "postgresql":
        return f"FLOOR({expression})::integer"
    return f"CAST({expression} AS INTEGER)"


def _interpolate(ranks: dict[int, float], size: int, p: float) -> float:
    position = (size - 1) * p
    low = int(position)
    below = ranks[low + 1]
    above = ranks.get(low + 2, below)
    return below + (position - low) * (above - below)


class UtcDay(Func):
    """The UTC calendar day of a timestamp, natively (TruncDate runs Python per row on SQLite)."""

    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        """SQLite stores UTC text; date() cuts it to the day in C."""
        return self.as_sql(compiler, connection, template="date(%(expressions)s)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        """The day in UTC, whatever the session's time zone."""
        return self.as_sql(
            compiler, connection, template="((%(expressions)s) AT TIME ZONE 'UTC')::date", **extra
        )
