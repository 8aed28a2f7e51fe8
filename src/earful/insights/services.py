"""Writes of the insights domain that are not alerts or webhooks: the thresholds."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from earful.errors import DomainError
from earful.insights.models import Alert, InsightSettings
from earful.org.events import record_event
from earful.org.models import Organization

RECENT_ALERTS = 100


@transaction.atomic
def save_settings(
    organization: Organization,
    *,
    by: Any = None,
    promo_threshold: float | None = None,
    ageing_hours: int | None = None,
    spread_replies: int | None = None,
) -> InsightSettings:
    """Change the organization's insight thresholds; only the given ones change."""
    stored, _ = InsightSettings.objects.get_or_create(organization=organization)
    changes = {
        name: value
        for name, value in (
            ("promo_threshold", promo_threshold),
            ("ageing_hours", ageing_hours),
            ("spread_replies", spread_replies),
        )
        if value is not None
    }
    if "promo_threshold" in changes and not 0 <= changes["promo_threshold"] <= 1:
        raise DomainError("the promotion threshold is a share between 0 and 1 (0.2 is 20%)")
    if not 1 <= changes.get("ageing_hours", 1) <= 720:
        raise DomainError("ageing hours must be between 1 and 720")
    if not 2 <= changes.get("spread_replies", 2) <= 10_000:
        raise DomainError("spreading needs between 2 and 10,000 replies")
    before = {name: getattr(stored, name) for name in changes}
    for name, value in changes.items():
        setattr(stored, name, value)
    stored.save()
    record_event(
        organization,
        "insights.settings_saved",
        actor=by,
        target=stored,
        before=before,
        after=changes,
    )
    return stored


def recent_alerts(organization: Organization) -> Any:
    """The organization's latest alerts, newest first, with their messages' conversations."""
    return (
        Alert.objects.filter(organization=organization)
        .prefetch_related("messages__conversation", "messages__channel")
        .order_by("-created_at", "-pk")[:RECENT_ALERTS]
    )
