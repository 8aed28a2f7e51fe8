"""Spike and crisis alerts, checked by the inbox tick (definitions in docs/metrics.md).

- Volume spike: customer messages in the last hour well above the usual for that hour of
  the week (the mean of the same hour in the previous four weeks).
- Negativity spike: the same test on negative customer messages.
- Spreading: a negative customer post that drew many replies within two hours.
- Ageing: complaints still unanswered after the organization's ageing hours.

"Well above" is a Poisson test: at least MIN_COUNT messages, at least twice the usual,
and above usual + 3 * sqrt(usual). Each alert has a key (the hour, the post, the check),
so the same spike is announced once. Raising one writes an `alert.raised` event, which
the webhooks carry out, and emails the organization's managers after commit.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from earful.conversations.models import Direction, Intent, Message, Sentiment, Status
from earful.insights.models import Alert, AlertKind
from earful.insights.social import insight_settings
from earful.org.access import manager_emails
from earful.org.events import record_event
from earful.org.models import Organization

MIN_COUNT = {AlertKind.VOLUME: 10, AlertKind.NEGATIVITY: 5}
BASELINE_WEEKS = 4
SPREAD_WINDOW = timedelta(hours=2)
# Complaints older than this are history, not a crisis.
AGEING_HORIZON = timedelta(days=7)
LINKED_MESSAGES = 50


def is_spike(observed: int, usual: float, minimum: int) -> bool:
    """Whether a count is well above its usual level (the rule in the module docstring)."""
    return observed >= minimum and observed >= 2 * usual and observed > usual + 3 * math.sqrt(usual)


def _customer_messages(organization: Organization, start: datetime, end: datetime) -> Q:
    return Q(
        organization=organization, direction=Direction.IN, created_at__gte=start, created_at__lt=end
    )


def _usual(organization: Organization, now: datetime, negative: bool) -> float:
    counts = []
    for week in range(1, BASELINE_WEEKS + 1):
        end = now - timedelta(weeks=week)
        condition = _customer_messages(organization, end - timedelta(hours=1), end)
        if negative:
            condition &= Q(sentiment=Sentiment.NEGATIVE)
        counts.append(Message.objects.filter(condition).count())
    return sum(counts) / len(counts)


def _raise(
    organization: Organization,
    kind: str,
    key: str,
    summary: str,
    messages: list[Message],
    *,
    now: datetime,
    observed: float,
    usual: float = 0.0,
) -> Alert | None:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                organization=organization,
                kind=kind,
                key=key,
                summary=summary,
                observed=observed,
                usual=usual,
                created_at=now,
            )
    except IntegrityError:
        return None  # announced already
    alert.messages.set(messages[:LINKED_MESSAGES])
    record_event(
        organization,
        "alert.raised",
        target=alert,
        after={
            "kind": kind,
            "summary": summary,
            "observed": observed,
            "usual": round(usual, 2),
            "messages": [str(m.code) for m in messages[:LINKED_MESSAGES]],
        },
    )
    transaction.on_commit(lambda: email_alert(alert))
    return alert


def _spikes(organization: Organization, now: datetime) -> list[Alert]:
    hour = now.replace(minute=0, second=0, microsecond=0).isoformat()
    raised = []
    for kind, negative in ((AlertKind.VOLUME, False), (AlertKind.NEGATIVITY, True)):
        recent = Message.objects.filter(
            _customer_messages(organization, now - timedelta(hours=1), now)
        )
        if negative:
            recent = recent.filter(sentiment=Sentiment.NEGATIVE)
        observed = recent.count()
        usual = _usual(organization, now, negative)
        if not is_spike(observed, usual, MIN_COUNT[kind]):
            continue
        label = "negative messages" if negative else "customer messages"
        alert = _raise(
            organization,
            kind,
            f"{kind}:{hour}",
            f"{observed} {label} in the last hour; usually {usual:.1f} at this hour",
            list(recent.order_by("-created_at")[:LINKED_MESSAGES]),
            now=now,
            observed=observed,
            usual=usual,
        )
        raised += [alert] if alert else []
    return raised


def _spreading(organization: Organization, now: datetime, replies: int) -> list[Alert]:
    posts = (
        Message.objects.filter(
            _customer_messages(organization, now - SPREAD_WINDOW, now),
            parent__direction=Direction.IN,
            parent__sentiment=Sentiment.NEGATIVE,
        )
        .values("parent")
        .annotate(n=Count("id"))
        .filter(n__gte=replies)
    )
    raised = []
    for row in posts:
        post = Message.objects.get(pk=cast(int, row["parent"]))
        answers = list(post.replies.filter(direction=Direction.IN).order_by("created_at"))
        alert = _raise(
            organization,
            AlertKind.SPREADING,
            f"spreading:{post.code}",
            f"A negative post drew {row['n']} replies in two hours",
            [post, *answers],
            now=now,
            observed=row["n"],
        )
        raised += [alert] if alert else []
    return raised


def _ageing(organization: Organization, now: datetime, hours: int) -> list[Alert]:
    # Complaints still waiting: their conversation waits on us since at most their arrival.
    cutoff = now - timedelta(hours=hours)
    complaints = (
        Message.objects.filter(
            _customer_messages(organization, now - AGEING_HORIZON, cutoff),
            conversation__waiting_since__isnull=False,
            conversation__waiting_since__lte=cutoff,
            conversation__first_response_at__isnull=True,
        )
        .filter(Q(intent=Intent.COMPLAINT) | Q(complaint=True))
        .exclude(conversation__status__in=(Status.RESOLVED, Status.MERGED))
        .exclude(
            pk__in=Alert.messages.through.objects.filter(
                alert__organization=organization, alert__kind=AlertKind.AGEING
            ).values("message_id")
        )
        .order_by("created_at")
    )
    found = list(complaints[:LINKED_MESSAGES])
    if not found:
        return []
    alert = _raise(
        organization,
        AlertKind.AGEING,
        f"ageing:{now.isoformat()}",
        f"{len(found)} complaint(s) unanswered for over {hours} h",
        found,
        now=now,
        observed=len(found),
    )
    return [alert] if alert else []


@transaction.atomic
def check_alerts(organization: Organization, now: datetime) -> list[Alert]:
    """Run every alert check for the organization; returns the alerts newly raised."""
    thresholds = insight_settings(organization)
    return [
        *_spikes(organization, now),
        *_spreading(organization, now, thresholds.spread_replies),
        *_ageing(organization, now, thresholds.ageing_hours),
    ]


def email_alert(alert: Alert) -> int:
    """Email an alert to the organization's managers and admins, with links to its messages."""
    organization = alert.organization
    recipients = manager_emails(organization)
    if not recipients:
        return 0
    base = settings.EARFUL_BASE_URL.rstrip("/")
    numbers = sorted(
        {n for n in alert.messages.values_list("conversation__number", flat=True) if n}
    )
    links = [f"{base}/o/{organization.slug}/c/{number}/" for number in numbers]
    # The subject carries only the kind and the organization's slug, never customer text.
    sent = send_mail(
        subject=f"[earful] {alert.get_kind_display()} in {organization.slug}",
        message=f"{alert.summary}\n\n"
        f"Alert: {base}/o/{organization.slug}/insights/alerts/\n" + "\n".join(links),
        from_email=None,
        recipient_list=recipients,
        fail_silently=True,
    )
    if sent:
        Alert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now())
    return sent
