"""Canned replies with variables, and one-click corrections of triage labels."""

from __future__ import annotations

import re

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from earful.conversations.models import Conversation, Intent, Message, Priority, Sentiment
from earful.conversations.stitching import case_reference
from earful.errors import DomainError
from earful.inbox.models import CannedReply, LabelCorrection
from earful.inbox.workflow import SETTABLE
from earful.org.events import record_event
from earful.org.models import Department, Organization

Actor = User | AnonymousUser | None
VARIABLE = re.compile(r"\{(\w+)\}")
CORRECTABLE: dict[str, tuple[str, ...]] = {
    "sentiment": tuple(Sentiment.values),
    "intent": tuple(Intent.values),
}


def variables(conversation: Conversation, agent: Actor) -> dict[str, str]:
    """The values a canned reply may use for this conversation and agent."""
    customer = conversation.customer
    return {
        "customer_name": customer.display_name if customer and customer.display_name else "there",
        "case_reference": case_reference(conversation.organization, conversation.number),
        "agent_name": (agent.get_full_name() or agent.get_username().split("@")[0])
        if isinstance(agent, User)
        else "",
        "organization": conversation.organization.name,
    }


def render(text: str, values: dict[str, str]) -> str:
    """Fill {variables}; unknown ones stay as typed so the agent sees them."""
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@transaction.atomic
def save_canned_reply(
    organization: Organization,
    name: str,
    text: str,
    *,
    by: Actor,
    handoff_to: Department | None = None,
    handoff_question: str = "",
    set_priority: int | None = None,
    set_status: str = "",
) -> CannedReply:
    """Create or update the organization's canned reply (a playbook, with actions) of that name."""
    if not name.strip():
        raise DomainError("a canned reply needs a name")
    if not text.strip() and handoff_to is None and set_priority is None and not set_status:
        raise DomainError("a canned reply needs a text, or a playbook an action")
    if handoff_to is not None and handoff_to.organization_id != organization.pk:
        raise DomainError("that department belongs to another organization")
    if set_priority is not None and set_priority not in Priority.values:
        raise DomainError(f"priority is one of {Priority.values}")
    if set_status and set_status not in SETTABLE:
        raise DomainError(f"a playbook cannot set the status {set_status!r}")
    canned, created = CannedReply.objects.update_or_create(
        organization=organization,
        name=name.strip(),
        defaults={
            "text": text.strip(),
            "handoff_to": handoff_to,
            "handoff_question": handoff_question.strip(),
            "set_priority": set_priority,
            "set_status": set_status,
        },
    )
    record_event(
        organization,
        "canned_reply.created" if created else "canned_reply.updated",
        actor=by,
        target=canned,
        after={"name": canned.name},
    )
    return canned


@transaction.atomic
def correct_label(message: Message, field: str, value: str, *, by: Actor) -> LabelCorrection:
    """Store a person's correction of a triage label (for retraining) and apply it."""
    if value not in CORRECTABLE.get(field, ()):
        raise DomainError(f"{value!r} is not a {field} label")
    old = str(getattr(message, field) or "")
    correction = LabelCorrection.objects.create(
        organization_id=message.organization_id,
        message=message,
        field=field,
        old=old,
        new=value,
        by=by if isinstance(by, User) else None,
    )
    Message.objects.filter(pk=message.pk).update(**{field: value})
    record_event(
        message.organization,
        "message.label_corrected",
        actor=by,
        target=message,
        before={field: old},
        after={field: value},
    )
    return correction
