"""Closing the loop: when an idea ships, each supporter is told once, on their own channel."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.urls import reverse

from earful.conversations.threading import refresh_conversations
from earful.customers.merging import live_customer_ids
from earful.feedback.board import board_for
from earful.feedback.delivery import directory_for, fit, route_to, write
from earful.feedback.models import Board, Idea, IdeaSupporter
from earful.org.events import record_event

PLACEHOLDERS = ("name", "idea", "response", "link")


class _Blank(dict[str, str]):
    """Unknown placeholders in a staff-written template stay as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def idea_link(board: Board, idea: Idea) -> str:
    """The public address of an idea."""
    path = reverse("feedback:public_idea", kwargs={"board": board.slug, "idea": idea.number})
    return board.public_url.rstrip("/") + path


def render_notice(template: str, *, name: str, idea: str, response: str, link: str) -> str:
    """The shipped notice from the organization's template."""
    values = _Blank(name=name, idea=idea, response=response, link=link)
    try:
        return template.format_map(values).strip()
    except (ValueError, IndexError):
        # A stray brace in the template must not stop customers from being told.
        return template.strip() + f"\n{link}"


@transaction.atomic
def notify_supporters(idea: Idea, *, now: datetime) -> int:
    """Tell every supporter not yet told that the idea shipped; returns how many were told.

    Each supporter row is locked and stamped in the same transaction as its outbox item,
    so setting an idea shipped twice (or two people at once) never tells anyone twice.
    """
    board = board_for(idea.organization)
    link = idea_link(board, idea)
    waiting = list(
        IdeaSupporter.objects.select_for_update(of=("self",))
        .filter(idea=idea, notified_at__isnull=True)
        .select_related("customer", "message__channel")
        .order_by("pk")
    )
    directory = directory_for(
        idea.organization_id, [s.customer_id for s in waiting], fallback=board.channel
    )
    # Customers merged since they supported the idea are one person, told once.
    supporters = dict(
        IdeaSupporter.objects.filter(idea=idea).values_list("customer_id", "notice_id")
    )
    person = live_customer_ids(supporters)
    notice_of = {person[c]: n for c, n in supporters.items() if n is not None}
    told, conversations = 0, set()
    for supporter in waiting:
        earlier = notice_of.get(person[supporter.customer_id])
        if earlier is not None:
            supporter.notified_at, supporter.notice_id = now, earlier
            supporter.save(update_fields=["notified_at", "notice"])
            continue
        route = route_to(supporter.customer_id, supporter.message, directory, private=False)
        if route is None:
            continue
        name = supporter.customer.display_name or "there"
        text = render_notice(
            board.shipped_template,
            name=name,
            idea=idea.title,
            response=idea.public_response,
            link=link,
        )
        short = f'"{idea.title[:120]}" has shipped. Thank you for asking for it. {link}'
        notice = write(route, fit(text, route.limit, short), now=now)
        supporter.notified_at, supporter.notice = now, notice
        supporter.save(update_fields=["notified_at", "notice"])
        notice_of[person[supporter.customer_id]] = notice.pk
        told += 1
        if notice.conversation_id is not None:
            conversations.add(notice.conversation_id)
    refresh_conversations(conversations)
    record_event(board.organization, "idea.supporters_told", target=idea, after={"told": told})
    return told
