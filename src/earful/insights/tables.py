"""The shape every insight comes in: a titled table (shown, exported as CSV, served by the API)
with an optional chart drawn from its columns, and the window it was measured over."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from earful.channels.models import Channel
from earful.org.models import Organization

Cell = str | int | float | None
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Window:
    """What a metric looks at: an organization, [start, end), and optionally one channel."""

    organization: Organization
    start: datetime
    end: datetime
    channel: Channel | None = None


@dataclass(frozen=True)
class Chart:
    """How to draw a table: a line, bar or stacked-bar chart of columns against the first."""

    kind: str
    series: tuple[str, ...]
    y_title: str = ""


@dataclass(frozen=True)
class Table:
    """One insight as rows and columns; `highlight` marks rows the page should call out."""

    slug: str
    title: str
    columns: tuple[str, ...]
    rows: list[list[Cell]]
    chart: Chart | None = None
    note: str = ""
    highlight: frozenset[int] = field(default_factory=frozenset)

    def as_dicts(self) -> list[dict[str, Cell]]:
        """Rows as column -> value mappings (the API's shape)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def series(self, column: str) -> list[Cell]:
        """One column's values, in row order (a chart's data)."""
        index = self.columns.index(column)
        return [row[index] for row in self.rows]


def to_csv(table: Table) -> str:
    """The table as CSV text; cells a spreadsheet would run as formulas are defused."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_defuse(cell) for cell in row])
    return out.getvalue()


def _defuse(cell: Cell) -> Cell:
    # Channel, topic and agent names are typed by people; a leading = + - @ would be a formula.
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes to one decimal, for display."""
    return None if seconds is None else round(seconds / 60, 1)


def percent(part: int, whole: int) -> float | None:
    """A share as a percentage to one decimal; None when there is nothing to divide."""
    return round(100 * part / whole, 1) if whole else None
