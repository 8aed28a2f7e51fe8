"""Commands of the feedback domain."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the feedback commands to the app and its benchmarks to `earful bench`."""
