"""What the conversation page shows: timeline, customer card, clocks, hand-offs, composer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from earful.conversations.models import TO_REPORT_BACK, WITH_DEPARTMENT, Conversation, Handoff
from earful.customers.story import sentiment_trend
from earful.inbox import canned
from earful.inbox.handoffs import report_back_draft
from earful.inbox.models import CannedReply, SlaClock
from earful.inbox.replies import (
    answerable,
    email_addresses,
    email_channel,
    is_private,
    length_limit,
)
from earful.inbox.reviews import drafts_on
from earful.org.models import Department, Event, Membership

TIMELINE_LIMIT = 200


def conversation_context(
    membership: Membership,
    conversation: Conversation,
    user: AbstractBaseUser | AnonymousUser,
    now: datetime,
) -> dict[str, Any]:
    """Everything the conversation page renders, read in a bounded number of queries."""
    organization = membership.organization
    customer = conversation.customer
    parents = answerable(conversation)
    default = parents[0] if parents else None
    values = canned.variables(conversation, user)  # type: ignore[arg-type]
    handoffs = list(
        conversation.handoffs.select_related("to_department", "requested_by")
        .prefetch_related("tickets__destination")
        .order_by("pk")
    )
    # The newest messages only: a conversation bot-flooded to thousands of messages
    # still renders in bounded time.
    timeline = list(
        conversation.messages.select_related("channel", "identity", "sent_by")
        .prefetch_related("outbox")
        .order_by("-created_at", "-id")[:TIMELINE_LIMIT]
    )
    fixed: list[tuple[Handoff, str]] = [
        (h, report_back_draft(h)) for h in handoffs if h.status in TO_REPORT_BACK
    ]
    return {
        "organization": organization,
        "membership": membership,
        "conversation": conversation,
        "timeline": timeline[::-1],
        "earlier": conversation.messages.count() - len(timeline)
        if len(timeline) == TIMELINE_LIMIT
        else 0,
        "notes": conversation.notes.select_related("author").order_by("created_at"),
        "handoffs": handoffs,
        "with_department": [str(status) for status in WITH_DEPARTMENT],
        "fixed_handoffs": fixed,
        "customer": customer,
        "identities": customer.identities.order_by("platform") if customer else [],
        "trend": sentiment_trend(customer)[-10:] if customer else [],
        "history": Conversation.objects.filter(customer=customer)
        .exclude(pk=conversation.pk)
        .order_by("-last_message_at")[:10]
        if customer
        else [],
        "clocks": SlaClock.objects.filter(conversation=conversation).order_by("started_at"),
        "now": now,
        "events": Event.objects.select_related("actor")
        .filter(organization=organization, target_id=str(conversation.code))
        .order_by("at", "pk"),
        "parents": parents,
        # A trainee's replies held for review or sent back: shown above the composer.
        "drafts": drafts_on(conversation, membership),
        "emails": email_addresses(conversation) if email_channel(conversation) else [],
        "limit": length_limit(default.channel) if default else None,
        "private": is_private(default, default.channel) if default else False,
        "canned": [
            (c.name, canned.render(c.text, values))
            for c in CannedReply.objects.filter(organization=organization).order_by("name")
            if c.text
        ],
        "playbooks": CannedReply.objects.filter(organization=organization)
        .filter(Q(handoff_to__isnull=False) | Q(set_priority__isnull=False) | ~Q(set_status=""))
        .order_by("name"),
        "departments": Department.objects.filter(organization=organization).order_by("name"),
        "members": Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email"),
        "sentiments": ("negative", "neutral", "positive"),
        "intents": ("complaint", "question", "suggestion", "praise", "other"),
    }
