"""Notifications for people not in earful all day: new urgent items, SLA breaches and
@mentions, to a department's chat rooms (Slack, Matrix, Teams) or to one member by email.

Each tick reads what is new past each policy's cursors (customers' messages for their
triage urgency; the event log for breaches and mentions) and queues one `Notification` per
recipient and thing, told once. Then it sends what is due: nothing in quiet hours (held
until they end, in the SLA policy's time zone), at most `max_per_hour` messages an hour per
room or person, the rest rolled into one summary. A room that is down is retried on the
outbox's backoff. A notification says numbers, labels and links: never the customer's
words, and the customer's name only where the room's redaction shares it.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Max, Q

from earful.channels.http import OutboundError
from earful.conversations.models import (
    WITH_DEPARTMENT,
    Conversation,
    Direction,
    Handoff,
    Message,
)
from earful.conversations.stitching import case_reference
from earful.errors import DomainError
from earful.inbox.destinations import Destination as Client
from earful.inbox.destinations import Notice, destination_class
from earful.inbox.models import (
    Destination,
    Notification,
    NotificationKind,
    NotificationPolicy,
    NotificationStatus,
    Redaction,
    SlaMetric,
)
from earful.inbox.outbox import backoff
from earful.inbox.sla import policy_for
from earful.inbox.tickets import client_for
from earful.org.events import record_event, record_events
from earful.org.models import Department, Event, Membership, Organization

log = logging.getLogger(__name__)
Actor = User | AnonymousUser | None
HOUR = timedelta(hours=1)
READ_LIMIT = 1000
VERBS = ("sla.breached", "conversation.note_added")
EDITABLE = frozenset(
    {
        "urgent",
        "urgency_threshold",
        "sla_breaches",
        "mentions",
        "max_per_hour",
        "quiet_from",
        "quiet_until",
    }
)


def takes_notifications(destination: Destination) -> bool:
    """Whether the destination's kind can post notifications (chat rooms, not trackers)."""
    cls = destination_class(destination.kind)
    return cls is not None and cls.notify is not Client.notify


def _validate(policy: NotificationPolicy) -> None:
    if not 0.0 <= policy.urgency_threshold <= 1.0:
        raise DomainError("the urgency threshold is between 0 and 1")
    if not 1 <= policy.max_per_hour <= 100:
        raise DomainError("allow between 1 and 100 notifications an hour")
    quiet = (policy.quiet_from, policy.quiet_until)
    if (quiet[0] is None) != (quiet[1] is None):
        raise DomainError("quiet hours need both a start and an end")
    if (
        quiet[0] is not None
        and quiet[1] is not None
        and (not (0 <= quiet[0] <= 23 and 0 <= quiet[1] <= 23) or quiet[0] == quiet[1])
    ):
        raise DomainError("quiet hours are two different hours from 0 to 23")


@transaction.atomic
def save_policy(
    organization: Organization,
    *,
    department: Department | None = None,
    member: Membership | None = None,
    by: Actor,
    **fields: Any,
) -> NotificationPolicy:
    """Create or change what a department's chat rooms or a member hear, and when."""
    if (department is None) == (member is None):
        raise DomainError("notifications are for one department or one member")
    unknown = set(fields) - EDITABLE
    if unknown:
        raise DomainError(f"unknown notification settings: {', '.join(sorted(unknown))}")
    policy = NotificationPolicy.objects.filter(department=department, member=member).first()
    if policy is None:
        # What happened before the policy existed is not news to anyone.
        policy = NotificationPolicy(
            organization=organization,
            department=department,
            member=member,
            event_cursor=Event.objects.aggregate(top=Max("pk"))["top"] or 0,
            message_cursor=Message.objects.aggregate(top=Max("pk"))["top"] or 0,
        )
    before = {name: getattr(policy, name) for name in fields}
    for name, value in fields.items():
        setattr(policy, name, value)
    _validate(policy)
    policy.save()
    who = {"department": department.slug} if department is not None else {}
    if member is not None:
        who = {"member": member.user.email}
    record_event(
        organization,
        "notification_policy.saved",
        actor=by,
        target=policy,
        before=before,
        after={**who, **fields},
    )
    return policy


def quiet_end(policy: NotificationPolicy, zone: ZoneInfo, now: datetime) -> datetime | None:
    """When the policy's quiet hours end, if `now` is inside them; None otherwise."""
    start, end = policy.quiet_from, policy.quiet_until
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(zone)
    hour = local.hour
    quiet = start <= hour < end if start < end else (hour >= start or hour < end)
    if not quiet:
        return None
    until = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until.astimezone(UTC)


@dataclass(frozen=True)
class _Item:
    kind: str
    key: str
    conversation: Conversation
    title: str
    text: str


def _link(organization: Organization, path: str) -> str:
    return f"{settings.EARFUL_BASE_URL.rstrip('/')}/o/{organization.slug}/{path}"


def _urgent(message: Message, conversation: Conversation, shares_name: bool) -> _Item:
    reference = case_reference(conversation.organization, conversation.number)
    score = max(message.urgency or 0.0, conversation.urgency)
    labels = ", ".join(x for x in (message.intent, message.sentiment, message.topic) if x)
    channel = message.channel.get_kind_display()
    text = f"Triage urgency {score:.2f} ({labels or 'no labels'}) on {channel}."
    if shares_name and conversation.customer is not None:
        text += f" From {conversation.customer.display_name}."
    waiting = conversation.waiting_since or message.created_at
    return _Item(
        NotificationKind.URGENT,
        f"urgent:{conversation.pk}:{int(waiting.timestamp())}",
        conversation,
        f"Urgent: {reference} needs a reply",
        text,
    )


def _breach(event: Event, conversation: Conversation) -> _Item:
    after = event.after or {}
    reference = case_reference(conversation.organization, conversation.number)
    metric = SlaMetric(after.get("metric", SlaMetric.RESOLUTION)).label
    due = str(after.get("due_at", ""))[:16].replace("T", " ")
    return _Item(
        NotificationKind.SLA_BREACH,
        f"sla:{event.pk}",
        conversation,
        f"SLA breach: {reference}",
        f"{metric} was due {due} UTC; the conversation is now urgent.",
    )


def _mention(event: Event, conversation: Conversation, named: list[str], you: bool) -> _Item:
    reference = case_reference(conversation.organization, conversation.number)
    who = event.actor.email.split("@")[0] if event.actor else "a department's tracker"
    whom = "you" if you else ", ".join(f"@{email.split('@')[0]}" for email in named)
    return _Item(
        NotificationKind.MENTION,
        f"mention:{event.pk}",
        conversation,
        f"{who} mentioned {whom} on {reference}",
        "Open the conversation in earful to read the note.",
    )


@dataclass
class _News:
    """What is new in an organization since the oldest cursor of its policies."""

    messages: list[Message]
    events: list[Event]
    conversations: dict[str, Conversation]
    event_top: int
    message_top: int


def _read_news(organization: Organization, policies: list[NotificationPolicy]) -> _News:
    event_from = min(p.event_cursor for p in policies)
    message_from = min(p.message_cursor for p in policies)
    # The tops are read first: what is written meanwhile is the next tick's.
    latest = Event.objects.filter(organization=organization).aggregate(top=Max("pk"))["top"]
    events = list(
        Event.objects.filter(
            organization=organization, verb__in=VERBS, pk__gt=event_from, pk__lte=latest or 0
        )
        .select_related("actor")
        .order_by("pk")[:READ_LIMIT]
    )
    # Past a full page, the next tick goes on from the last event read.
    event_top = events[-1].pk if len(events) == READ_LIMIT else max(latest or 0, event_from)
    message_top = (
        Message.objects.filter(organization=organization).aggregate(top=Max("pk"))["top"] or 0
    )
    lowest = min(p.urgency_threshold for p in policies)
    messages = list(
        Message.objects.filter(
            Q(urgency__gte=lowest) | Q(conversation__urgency__gte=lowest),
            organization=organization,
            direction=Direction.IN,
            pk__gt=message_from,
            pk__lte=message_top,
            conversation__waiting_since__isnull=False,
        )
        .select_related("conversation__customer", "conversation__organization", "channel")
        .order_by("pk")
    )
    codes = {e.target_id for e in events}
    conversations = {
        str(c.code): c
        for c in Conversation.objects.filter(
            organization=organization, code__in=codes
        ).select_related("organization")
    }
    return _News(messages, events, conversations, event_top, max(message_top, message_from))


def _items_for(policy: NotificationPolicy, news: _News, shares_name: bool) -> list[_Item]:
    """What in the news concerns this department (its routing) or member (theirs)."""
    department, member = policy.department, policy.member
    candidates = {m.conversation_id for m in news.messages if m.conversation_id is not None} | {
        c.pk for c in news.conversations.values()
    }
    if department is not None:
        handed = set(
            Handoff.objects.filter(
                conversation_id__in=candidates,
                to_department=department,
                status__in=WITH_DEPARTMENT,
            ).values_list("conversation_id", flat=True)
        )
        emails = set(
            Membership.objects.filter(department=department).values_list("user__email", flat=True)
        )

        def concerns(conversation: Conversation) -> bool:
            return conversation.department_id == department.pk or conversation.pk in handed

    else:
        assert member is not None
        emails = {member.user.email}

        def concerns(conversation: Conversation) -> bool:
            return conversation.assignee_id == member.user_id

    items: list[_Item] = []
    if policy.urgent:
        for message in news.messages:
            talk = message.conversation
            if talk is None or message.pk <= policy.message_cursor:
                continue
            score = max(message.urgency or 0.0, talk.urgency)
            if score >= policy.urgency_threshold and concerns(talk):
                items.append(_urgent(message, talk, shares_name))
    for event in news.events:
        conversation = news.conversations.get(event.target_id)
        if event.pk <= policy.event_cursor or conversation is None:
            continue
        if event.verb == "sla.breached" and policy.sla_breaches and concerns(conversation):
            items.append(_breach(event, conversation))
        elif event.verb == "conversation.note_added" and policy.mentions:
            author = event.actor.email if event.actor else ""
            named = [e for e in (event.after or {}).get("mentions", []) if e in emails]
            named = [e for e in named if e != author]
            if named:
                items.append(_mention(event, conversation, named, member is not None))
    return items


@transaction.atomic
def queue_notifications(organization: Organization, now: datetime) -> int:
    """Queue a notification per recipient for each new urgent item, breach and mention."""
    policies = list(
        NotificationPolicy.objects.select_for_update(of=("self",))
        .filter(organization=organization)
        .select_related("department", "member__user")
        .order_by("pk")
    )
    if not policies:
        return 0
    news = _read_news(organization, policies)
    zone = ZoneInfo(policy_for(organization).timezone)
    queued = 0
    for policy in policies:
        if policy.department is not None:
            rooms: list[Destination | None] = [
                d
                for d in Destination.objects.filter(department=policy.department, enabled=True)
                if takes_notifications(d)
            ]
        else:
            rooms = [None]
        for room in rooms:
            shares_name = room is not None and room.redaction == Redaction.NONE
            queued += _queue(policy, room, _items_for(policy, news, shares_name), zone, now)
        policy.event_cursor, policy.message_cursor = news.event_top, news.message_top
        policy.save(update_fields=["event_cursor", "message_cursor"])
    return queued


def _recipient(policy: NotificationPolicy, room: Destination | None) -> str:
    if room is not None:
        return f"{room.kind} of {policy.department.slug if policy.department else '?'}"
    return policy.member.user.email if policy.member else "?"


def _queue(
    policy: NotificationPolicy,
    room: Destination | None,
    items: list[_Item],
    zone: ZoneInfo,
    now: datetime,
) -> int:
    told = set(
        Notification.objects.filter(
            policy=policy, destination=room, key__in=[i.key for i in items]
        ).values_list("key", flat=True)
    )
    fresh = {i.key: i for i in items if i.key not in told}
    if not fresh:
        return 0
    held = quiet_end(policy, zone, now)
    Notification.objects.bulk_create(
        [
            Notification(
                organization_id=policy.organization_id,
                policy=policy,
                destination=room,
                kind=item.kind,
                key=item.key,
                conversation=item.conversation,
                title=item.title[:200],
                text=item.text,
                due_at=held or now,
            )
            for item in fresh.values()
        ],
        ignore_conflicts=True,
    )
    recipient = _recipient(policy, room)
    record_events(
        policy.organization,
        "notification.queued",
        [
            (
                item.conversation,
                {
                    "kind": item.kind,
                    "to": recipient,
                    "held_until": held.isoformat() if held else None,
                },
            )
            for item in fresh.values()
        ],
    )
    return len(fresh)


def _deliver(policy: NotificationPolicy, room: Destination | None, notice: Notice) -> None:
    if room is not None:
        client_for(room).notify(notice)
        return
    assert policy.member is not None
    # Titles are earful's (numbers, labels, members' names): safe as a subject line.
    send_mail(
        subject=f"[earful] {notice.title}",
        message=f"{notice.text}\n\n{notice.link}\n",
        from_email=None,
        recipient_list=[policy.member.user.email],
        fail_silently=False,
    )


def _summary(organization: Organization, items: list[Notification]) -> Notice:
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[NotificationKind(item.kind).label.lower()] += 1
    what = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    lines = [f"- {item.title}" for item in items[:20]]
    if len(items) > 20:
        lines.append(f"- and {len(items) - 20} more")
    return Notice(
        f"{len(items)} more notifications ({what})",
        "\n".join(lines),
        _link(organization, "inbox/"),
    )


def _mark(
    organization: Organization,
    items: list[Notification],
    status: str,
    now: datetime,
    recipient: str,
) -> None:
    batch = uuid.uuid4()
    with transaction.atomic():
        Notification.objects.filter(pk__in=[i.pk for i in items]).update(
            status=status, sent_at=now, batch=batch, last_error="", attempts=F("attempts") + 1
        )
        if status == NotificationStatus.SENT:
            record_event(
                organization,
                "notification.sent",
                target=items[0].conversation,
                after={"kind": items[0].kind, "to": recipient, "batch": str(batch)},
            )
        else:
            record_event(
                organization,
                "notification.summarised",
                target=items[0].policy,
                after={"to": recipient, "count": len(items), "batch": str(batch)},
            )


def _failed(
    organization: Organization,
    policy: NotificationPolicy,
    items: list[Notification],
    error: str,
    now: datetime,
    recipient: str,
) -> None:
    attempts = max(i.attempts for i in items) + 1
    retry_at = now + backoff(attempts)
    with transaction.atomic():
        Notification.objects.filter(pk__in=[i.pk for i in items]).update(
            attempts=F("attempts") + 1, last_error=error[:1000], due_at=retry_at
        )
        record_event(
            organization,
            "notification.failed",
            target=policy,
            after={
                "to": recipient,
                "count": len(items),
                "error": error[:1000],
                "next_attempt_at": retry_at.isoformat(),
            },
        )


def _send_group(
    organization: Organization,
    policy: NotificationPolicy,
    room: Destination | None,
    items: list[Notification],
    zone: ZoneInfo,
    now: datetime,
) -> int:
    recipient = _recipient(policy, room)
    held = quiet_end(policy, zone, now)
    if held is not None:
        with transaction.atomic():
            Notification.objects.filter(pk__in=[i.pk for i in items]).update(due_at=held)
            record_event(
                organization,
                "notification.held",
                target=policy,
                after={"to": recipient, "count": len(items), "until": held.isoformat()},
            )
        return 0
    sent_lately = (
        Notification.objects.filter(
            policy=policy, destination=room, sent_at__gt=now - HOUR, batch__isnull=False
        )
        .values("batch")
        .distinct()
        .count()
    )
    budget = policy.max_per_hour - sent_lately
    if budget <= 0:
        # They wait for the hour to free up, and then go rolled into a summary.
        return 0
    # Over the budget: all but one go singly, and the last message sums up the rest.
    cut = len(items) if len(items) <= budget else budget - 1
    singles, rolled = items[:cut], items[cut:]
    sent = 0
    for index, item in enumerate(singles):
        link = _link(organization, f"c/{item.conversation.number}/")
        notice = Notice(item.title, item.text, link)
        try:
            _deliver(policy, room, notice)
        except (OutboundError, smtplib.SMTPException, OSError) as exc:
            _failed(organization, policy, [*singles[index:], *rolled], str(exc), now, recipient)
            return sent
        _mark(organization, [item], NotificationStatus.SENT, now, recipient)
        sent += 1
    if rolled:
        try:
            _deliver(policy, room, _summary(organization, rolled))
        except (OutboundError, smtplib.SMTPException, OSError) as exc:
            _failed(organization, policy, rolled, str(exc), now, recipient)
            return sent
        _mark(organization, rolled, NotificationStatus.SUMMARISED, now, recipient)
        sent += 1
    return sent


def send_due_notifications(organization: Organization, now: datetime) -> int:
    """Send the organization's due notifications; returns how many messages went out."""
    due = (
        Notification.objects.filter(
            organization=organization, status=NotificationStatus.PENDING, due_at__lte=now
        )
        .select_related("policy__department", "policy__member__user", "destination", "conversation")
        .order_by("pk")
    )
    groups: dict[tuple[int, int | None], list[Notification]] = defaultdict(list)
    for item in due:
        groups[(item.policy_id, item.destination_id)].append(item)
    if not groups:
        return 0
    zone = ZoneInfo(policy_for(organization).timezone)
    sent = 0
    for items in groups.values():
        first = items[0]
        if first.destination is not None and not first.destination.enabled:
            continue
        sent += _send_group(organization, first.policy, first.destination, items, zone, now)
    return sent


def notify(organization: Organization, now: datetime) -> int:
    """Queue what is new and send what is due, for one organization (the tick's step)."""
    queue_notifications(organization, now)
    return send_due_notifications(organization, now)
