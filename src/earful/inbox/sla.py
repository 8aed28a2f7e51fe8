"""SLA clocks: first response, next response and resolution, in business time, paused while
the customer is the one we wait for, and flagged (and escalated) when they run out."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet

from earful.conversations.models import Conversation, Priority, Status
from earful.errors import DomainError
from earful.inbox.models import SlaClock, SlaMetric, SlaPolicy
from earful.org.access import manager_emails
from earful.org.events import record_event
from earful.org.models import Organization

# While the conversation waits on the customer (or is snoozed) the resolution clock pauses.
PAUSING = frozenset({Status.PENDING, Status.SNOOZED})
CLOSED = frozenset({Status.RESOLVED, Status.MERGED})


def policy_for(organization: Organization) -> SlaPolicy:
    """The organization's policy; the defaults when it has none stored."""
    policy = SlaPolicy.objects.filter(organization=organization).first()
    return policy or SlaPolicy(organization=organization)


def _is_open(policy: SlaPolicy, local: datetime) -> bool:
    return (
        str(local.weekday()) in policy.weekdays
        and policy.day_start_hour <= local.hour < policy.day_end_hour
    )


def add_business_time(start: datetime, seconds: float, policy: SlaPolicy) -> datetime:
    """The moment `seconds` of business time after `start`."""
    if not policy.business_hours_only or not policy.weekdays:
        return start + timedelta(seconds=seconds)
    zone = ZoneInfo(policy.timezone)
    at = start.astimezone(zone)
    left = seconds
    for _ in range(3700):  # about ten years of days: a bound, not a limit anyone reaches
        day_open = at.replace(hour=policy.day_start_hour, minute=0, second=0, microsecond=0)
        day_close = at.replace(hour=policy.day_end_hour, minute=0, second=0, microsecond=0)
        if str(at.weekday()) in policy.weekdays and at < day_close:
            begin = max(at, day_open)
            room = (day_close - begin).total_seconds()
            if left <= room:
                return (begin + timedelta(seconds=left)).astimezone(start.tzinfo)
            left -= room
        at = (at + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    raise ValueError("the policy has no business hours")


def business_seconds_between(start: datetime, end: datetime, policy: SlaPolicy) -> float:
    """How many seconds of business time lie between two moments."""
    if end <= start:
        return 0.0
    if not policy.business_hours_only:
        return (end - start).total_seconds()
    zone = ZoneInfo(policy.timezone)
    at, stop, total = start.astimezone(zone), end.astimezone(zone), 0.0
    while at < stop:
        day_open = at.replace(hour=policy.day_start_hour, minute=0, second=0, microsecond=0)
        day_close = at.replace(hour=policy.day_end_hour, minute=0, second=0, microsecond=0)
        if str(at.weekday()) in policy.weekdays:
            begin, finish = max(at, day_open), min(stop, day_close)
            total += max(0.0, (finish - begin).total_seconds())
        at = (at + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return total


def _target(policy: SlaPolicy, metric: str) -> int:
    return {
        SlaMetric.FIRST_RESPONSE: policy.first_response_minutes,
        SlaMetric.NEXT_RESPONSE: policy.next_response_minutes,
        SlaMetric.RESOLUTION: policy.resolution_minutes,
    }[SlaMetric(metric)] * 60


def sync_clocks(conversation: Conversation, now: datetime) -> list[SlaClock]:
    """Start, pause, resume and stop the conversation's clocks to match its state."""
    policy = policy_for(conversation.organization)
    clocks = {c.metric: c for c in conversation.sla_clocks.filter(stopped_at__isnull=True)}
    ever = set(conversation.sla_clocks.values_list("metric", "started_at"))

    def start(metric: str, at: datetime) -> None:
        if metric in clocks or (metric, at) in ever:
            return
        clocks[metric] = SlaClock.objects.create(
            organization_id=conversation.organization_id,
            conversation=conversation,
            metric=metric,
            started_at=at,
            due_at=add_business_time(at, _target(policy, metric), policy),
        )

    def stop(metric: str, at: datetime) -> None:
        clock = clocks.pop(metric, None)
        if clock is not None:
            clock.stopped_at = at
            clock.save(update_fields=["stopped_at"])

    closed = conversation.status in CLOSED
    customer_spoke = conversation.waiting_since or conversation.first_response_at
    started = {metric for metric, _ in ever}
    if customer_spoke:
        # Clocks start at the customer's first message, even when first synced later.
        for first in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION):
            if first not in started:
                start(first, conversation.started_at)
    if conversation.first_response_at is not None:
        stop(SlaMetric.FIRST_RESPONSE, conversation.first_response_at)
        if conversation.waiting_since and not closed:
            start(SlaMetric.NEXT_RESPONSE, conversation.waiting_since)
        else:
            stop(SlaMetric.NEXT_RESPONSE, now)
    if closed:
        for metric in list(clocks):
            stop(metric, conversation.resolved_at or now)
    _pause_or_resume(clocks.get(SlaMetric.RESOLUTION), conversation.status, policy, now)
    due = {m: c.due_at for m, c in clocks.items()}
    Conversation.objects.filter(pk=conversation.pk).update(
        first_response_due=due.get(SlaMetric.FIRST_RESPONSE),
        next_response_due=due.get(SlaMetric.NEXT_RESPONSE),
        resolution_due=due.get(SlaMetric.RESOLUTION),
    )
    return list(clocks.values())


def _pause_or_resume(clock: SlaClock | None, status: str, policy: SlaPolicy, now: datetime) -> None:
    if clock is None:
        return
    if status in PAUSING and clock.paused_at is None:
        clock.paused_at = now
    elif status not in PAUSING and clock.paused_at is not None:
        paused = business_seconds_between(clock.paused_at, now, policy)
        clock.due_at = add_business_time(clock.due_at, paused, policy)
        clock.paused_at = None
    else:
        return
    clock.save(update_fields=["paused_at", "due_at"])


def overdue_clocks(organization: Organization, now: datetime) -> QuerySet[SlaClock]:
    """Running, unpaused clocks of the organization that are past due."""
    return SlaClock.objects.filter(
        organization=organization, stopped_at__isnull=True, paused_at__isnull=True, due_at__lt=now
    )


@transaction.atomic
def check_sla(organization: Organization, now: datetime) -> list[SlaClock]:
    """Sync every open conversation's clocks, then mark and escalate new breaches."""
    for conversation in Conversation.objects.filter(organization=organization).exclude(
        status__in=CLOSED
    ):
        sync_clocks(conversation, now)
    breached = list(
        overdue_clocks(organization, now)
        .filter(breached_at__isnull=True)
        .select_related("conversation")
    )
    for clock in breached:
        clock.breached_at = now
        clock.save(update_fields=["breached_at"])
        # Up the queue: a breach makes the conversation urgent; managers see it in Overdue.
        Conversation.objects.filter(pk=clock.conversation_id).update(priority=Priority.URGENT)
        record_event(
            organization,
            "sla.breached",
            target=clock.conversation,
            before={"priority": clock.conversation.priority},
            after={
                "metric": clock.metric,
                "due_at": clock.due_at.isoformat(),
                "priority": int(Priority.URGENT),
                "escalated_to": "manager",
            },
        )
    if breached:
        transaction.on_commit(lambda: notify_managers(organization, breached))
    return breached


def notify_managers(organization: Organization, breached: list[SlaClock]) -> int:
    """Email the organization's managers and admins the conversations that breached an SLA."""
    recipients = manager_emails(organization)
    if not recipients:
        return 0
    # Only numbers and metric names go in the mail: the subject line must never carry
    # customer text, which could smuggle a header in.
    lines = [
        f"#{clock.conversation.number}: {clock.get_metric_display()} was due "
        f"{clock.due_at:%Y-%m-%d %H:%M} UTC"
        for clock in breached
    ]
    return send_mail(
        subject=f"[earful] {len(breached)} SLA breach(es) in {organization.slug}",
        message="These conversations are overdue and now urgent:\n\n" + "\n".join(lines),
        from_email=None,
        recipient_list=recipients,
        fail_silently=True,
    )


@transaction.atomic
def save_policy(organization: Organization, *, by: object = None, **targets: object) -> SlaPolicy:
    """Create or change the organization's SLA policy; only the given fields change."""
    policy = policy_for(organization)
    before = {name: getattr(policy, name) for name in targets}
    for name, value in targets.items():
        setattr(policy, name, value)
    if not 0 <= policy.day_start_hour < policy.day_end_hour <= 24:
        raise DomainError("business hours must start before they end, within one day")
    if any(ch not in "0123456" for ch in policy.weekdays):
        raise DomainError("weekdays are digits 0 (Monday) to 6 (Sunday)")
    try:
        ZoneInfo(policy.timezone)
    except (ValueError, KeyError):
        raise DomainError(f"unknown time zone {policy.timezone!r}") from None
    policy.save()
    record_event(
        organization,
        "sla_policy.saved",
        actor=by if isinstance(by, User) else None,
        target=policy,
        before=before,
        after=targets,
    )
    return policy
