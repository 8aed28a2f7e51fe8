"""Appending to the audit trail; every service that writes calls this in its transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from earful.org.models import Event, Organization


def record_event(
    organization: Organization,
    verb: str,
    *,
    actor: User | AnonymousUser | None = None,
    target: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Event:
    """Write one audit event: who did what to which object, with before and after."""
    event = _event(organization, verb, actor, target, before, after)
    event.save()
    return event


def record_events(
    organization: Organization,
    verb: str,
    changes: Iterable[tuple[Any, dict[str, Any] | None]],
    *,
    actor: User | AnonymousUser | None = None,
) -> list[Event]:
    """Write one event per (target, after) pair in one insert: a batch's many like changes."""
    return Event.objects.bulk_create(
        _event(organization, verb, actor, target, None, after) for target, after in changes
    )


def _event(
    organization: Organization,
    verb: str,
    actor: User | AnonymousUser | None,
    target: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> Event:
    target_type = target._meta.label_lower if target is not None else ""
    target_id = str(getattr(target, "code", None) or getattr(target, "pk", "")) if target else ""
    return Event(
        organization=organization,
        actor=actor if isinstance(actor, User) else None,
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
    )
