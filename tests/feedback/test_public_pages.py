"""The public board shows nothing private and escapes everything customers wrote."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver

from earful.feedback.board import comment, post_idea, vote
from earful.feedback.ideas import add_staff_note, moderate_comment, moderate_idea, set_status
from earful.feedback.models import IdeaStatus
from earful.feedback.requests import Visit, request_for_visits
from tests.feedback.helpers import ANA, BEN, CAL
from tests.tenancy import fill

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _public_routes() -> list[str]:
    resolver = get_resolver()
    feedback = next(p for p in resolver.url_patterns if getattr(p, "app_name", None) == "feedback")
    return [
        "/" + str(p.pattern)
        for p in feedback.url_patterns  # type: ignore[attr-defined]
        if isinstance(p, URLPattern) and str(p.pattern).startswith("b/")
    ]


def test_the_public_routes_need_no_organization_parameter() -> None:
    routes = _public_routes()
    assert "/b/<slug:board>/" in routes
    assert all("<slug:org>" not in r and "<org>" not in r for r in routes)


def test_no_public_page_shows_a_private_field(
    board: Any, email_channel: Any, owner: Any, now: Any, client: Client
) -> None:
    shown = post_idea(board, ANA, "Seat picking in the app", "Let me choose a window seat")
    vote(shown, BEN)
    comment(shown, CAL, "Yes please")
    hidden_comment = comment(shown, CAL, "HIDDEN-COMMENT spam spam")
    moderate_comment(hidden_comment, "hidden", by=owner)
    add_staff_note(shown, "STAFF-NOTE-SECRET: R&D says Q3", by=owner)
    set_status(shown, IdeaStatus.PLANNED, by=owner, now=now, response="Coming in spring")
    hidden = post_idea(board, BEN, "HIDDEN-IDEA offensive words")
    moderate_idea(hidden, "hidden", by=owner)
    request = request_for_visits(board.organization, [Visit("dan@example.com")], now=now)[0]
    assert request.request is not None
    values = {
        "board": board.slug,
        "idea": str(shown.number),
        "token": request.request.token,
    }
    private = [
        "ana@example.com",
        "ben@example.com",
        "cal@example.com",
        "dan@example.com",
        "owner@acme.example",
        "STAFF-NOTE-SECRET",
        "HIDDEN-IDEA",
        "HIDDEN-COMMENT",
        str(shown.author.code),
    ]

    pages = []
    for route in _public_routes():
        path = fill(route, values)
        response = client.get(path, {"title": "seat picking"})
        assert response.status_code in (200, 405), path
        pages.append((path, response.content.decode()))
    pages.append(
        (
            "similar",
            client.get(f"/b/{board.slug}/similar/", {"title": "offensive"}).content.decode(),
        )
    )

    for path, page in pages:
        for secret in private:
            assert secret not in page, (path, secret)
    board_page = dict(pages)[f"/b/{board.slug}/"]
    assert "Seat picking in the app" in board_page
    idea_page = dict(pages)[f"/b/{board.slug}/ideas/{shown.number}/"]
    assert "Coming in spring" in idea_page and "Yes please" in idea_page
    assert client.get(f"/b/{board.slug}/ideas/{hidden.number}/").status_code == 404


def test_customer_text_is_escaped_everywhere_it_is_shown(
    board: Any, owner: Any, client: Client
) -> None:
    idea = post_idea(board, ANA, HOSTILE, HOSTILE)
    comment(idea, BEN, HOSTILE)
    client.force_login(owner)

    pages = [
        client.get(f"/b/{board.slug}/").content.decode(),
        client.get(f"/b/{board.slug}/ideas/{idea.number}/").content.decode(),
        client.get(f"/b/{board.slug}/similar/", {"title": "alert script"}).content.decode(),
        client.get(f"/o/acme/feedback/ideas/{idea.number}/").content.decode(),
        client.get("/o/acme/feedback/").content.decode(),
    ]

    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert" in page


def test_a_missing_board_is_not_found(client: Client, db: None) -> None:
    assert client.get("/b/nobody/").status_code == 404
