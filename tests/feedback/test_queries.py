"""List pages cost the same number of queries however many ideas and supporters there are."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from earful.feedback.board import Person, comment, post_idea, vote
from earful.feedback.ideas import set_status
from earful.feedback.models import Idea, IdeaStatus
from tests.feedback.helpers import ANA

pytestmark = pytest.mark.django_db


def _grow(board: Any, owner: Any, now: Any, start: int, count: int) -> None:
    for n in range(start, start + count):
        idea = post_idea(board, ANA, f"idea number {n}")
        person = Person(f"Voter {n}", f"voter{n}@example.com")
        vote(idea, person)
        comment(idea, person, f"comment {n}")
        set_status(idea, IdeaStatus.SHIPPED, by=owner, now=now)


def _queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "path",
    ["/b/{board}/", "/b/{board}/ideas/1/", "/o/acme/feedback/", "/o/acme/feedback/ideas/1/"],
)
def test_pages_do_not_query_per_row(
    path: str, board: Any, email_channel: Any, owner: Any, now: Any, client: Client
) -> None:
    client.force_login(owner)
    _grow(board, owner, now, 0, 2)
    url = path.format(board=board.slug)
    few = _queries(client, url)

    _grow(board, owner, now, 2, 4)
    first = Idea.objects.get(number=1)
    for n in range(3):
        late = Person(f"Late {n}", f"late{n}@example.com")
        vote(first, late)
        comment(first, late, f"me too {n}")
    set_status(first, IdeaStatus.SHIPPED, by=owner, now=now)

    assert _queries(client, url) == few
