"""The command line explains itself."""

from __future__ import annotations

import subprocess
import sys


def test_help_lists_every_subcommand() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "earful", "--help"], capture_output=True, text=True, check=True
    )

    for command in ("demo", "import", "serve", "migrate", "manage", "triage", "train", "bench"):
        assert command in result.stdout


def test_an_unknown_format_is_a_clear_error(tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "earful", "import", __file__, "--format", "xml"],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 2
    assert "unknown format 'xml'" in result.stderr
