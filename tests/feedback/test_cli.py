"""`earful feedback-requests FILE --org SLUG` and the CSV it reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from earful.errors import DomainError
from earful.feedback.models import FeedbackRequest
from earful.feedback.requests import request_for_visits, visits_from_csv


def test_each_row_of_the_file_is_a_visit(
    tmp_path: Path, board: Any, email_channel: Any, now: Any
) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("email,name,reference\nzoe@example.com,Zoe,order 7\nbad,,order 8\n")

    rows = list(visits_from_csv(path))
    outcomes = request_for_visits(board.organization, [v for _, v in rows], now=now)

    assert [n for n, _ in rows] == [2, 3]
    assert FeedbackRequest.objects.get().reference == "order 7"
    assert "not an email address" in outcomes[1].skipped


def test_a_file_without_an_email_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("name,reference\nZoe,order 7\n")

    with pytest.raises(DomainError, match="'email' column"):
        list(visits_from_csv(path))


def test_the_command_names_a_missing_organization(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("email\nzoe@example.com\n")
    env = {**os.environ, "EARFUL_HOME": str(tmp_path / "home")}
    env.pop("DATABASE_URL", None)

    result = subprocess.run(
        [sys.executable, "-m", "earful", "feedback-requests", str(path), "--org", "nobody"],
        capture_output=True,
        text=True,
        env=env,
    )

    assert result.returncode == 2
    assert "no organization 'nobody'" in result.stderr
