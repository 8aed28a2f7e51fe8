"""Commands of the insights domain."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the insights commands to the app and its benchmarks to `earful bench`."""
