"""The team's work: the outbox, SLA policies and clocks, canned replies, label corrections,
and the departments' outside destinations (trackers and chat) with the tickets opened there."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from earful.channels.models import Channel
from earful.conversations.models import Conversation, Handoff, Message

# Defined in its own module; imported here so Django registers it with the inbox app.
from earful.inbox.review_models import DraftStatus, ReplyDraft  # noqa: F401
from earful.org.models import Department, Organization


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    RECORDED = "recorded", "Recorded (channel has no connector)"
    DEAD = "dead", "Gave up"


class OutboxItem(models.Model):
    """One reply to deliver: claimed, sent once, retried with backoff, kept when it fails."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="outbox")
    parent = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE)
    idempotency_key = models.CharField(max_length=64, unique=True)
    # Set when the reply leaves the customer's channel (a public post answered by email).
    recipient = models.EmailField(blank=True)
    # Files a brand post carries: [{path (under EARFUL_HOME), content_type, description}].
    media = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"outbox {self.idempotency_key} ({self.status})"


class SlaPolicy(models.Model):
    """An organization's response and resolution targets, in business minutes."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE)
    first_response_minutes = models.PositiveIntegerField(default=60)
    next_response_minutes = models.PositiveIntegerField(default=240)
    resolution_minutes = models.PositiveIntegerField(default=2880)
    # A department that has not answered a hand-off within this is escalated to the managers.
    handoff_minutes = models.PositiveIntegerField(default=1440)
    # Business hours in the organization's time zone; 24/7 when `business_hours_only` is off.
    business_hours_only = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC")
    day_start_hour = models.PositiveSmallIntegerField(default=9)
    day_end_hour = models.PositiveSmallIntegerField(default=17)
    # Working weekdays as digits, Monday = 0.
    weekdays = models.CharField(max_length=7, default="01234")

    def __str__(self) -> str:
        return f"SLA of {self.organization}"


class SlaMetric(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class SlaClock(models.Model):
    """One running or stopped SLA target of a conversation."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="sla_clocks"
    )
    metric = models.CharField(max_length=16, choices=SlaMetric.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    paused_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "metric", "started_at"], name="sla_clock_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "stopped_at", "due_at"])]

    def __str__(self) -> str:
        return f"{self.metric} of #{self.conversation_id} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def met(self) -> bool | None:
        """True if stopped in time, False if breached, None while running."""
        if self.breached_at is not None:
            return False
        return None if self.stopped_at is None else self.stopped_at <= self.due_at


class CannedReply(models.Model):
    """A saved answer with variables such as {customer_name} and {case_reference}.

    With actions it is a playbook: run on a conversation, it sends the reply, then hands
    the conversation off, sets its priority and its status, in one step.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    text = models.TextField(blank=True)
    handoff_to = models.ForeignKey(
        "org.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handoff_question = models.TextField(blank=True)
    set_priority = models.SmallIntegerField(null=True, blank=True)
    set_status = models.CharField(max_length=24, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="canned_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class LabelCorrection(models.Model):
    """A person's fix of a triage label: training data for the organization's own model."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="corrections")
    field = models.CharField(max_length=16)
    old = models.CharField(max_length=32, blank=True)
    new = models.CharField(max_length=32)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.field}: {self.old} -> {self.new}"


class DestinationKind(models.TextChoices):
    GITHUB = "github", "GitHub Issues"
    GITLAB = "gitlab", "GitLab issues"
    JIRA = "jira", "Jira"
    SLACK = "slack", "Slack"
    MATRIX = "matrix", "Matrix"
    TEAMS = "teams", "Microsoft Teams"


class Redaction(models.TextChoices):
    NONE = "none", "Share the customer's name and handle"
    CONTACT = "contact", "No email address or handle"
    ANONYMOUS = "anonymous", "No name, email address or handle"


class Destination(models.Model):
    """Where a department is reached outside earful: an issue tracker or a chat room."""

    # In the webhook URL the tracker calls, so it must not be guessable.
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="destinations"
    )
    kind = models.CharField(max_length=16, choices=DestinationKind.choices)
    # Typed per kind by the destination's settings model; holds the credentials too.
    settings = models.JSONField(default=dict, blank=True)
    redaction = models.CharField(
        max_length=16, choices=Redaction.choices, default=Redaction.CONTACT
    )
    enabled = models.BooleanField(default=True)
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check = models.TextField(blank=True)
    last_check_ok = models.BooleanField(null=True)
    # Where polling (for trackers whose webhooks cannot reach earful) resumes.
    cursor = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department", "kind"], name="destination_kind_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.department_id}"


class TicketState(models.TextChoices):
    PENDING = "pending", "Waiting to be opened"
    SENDING = "sending", "Being opened"
    OPEN = "open", "Opened"


class ExternalTicket(models.Model):
    """A hand-off's issue or chat message at a destination, opened with retries."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="tickets")
    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="tickets")
    state = models.CharField(max_length=8, choices=TicketState.choices, default=TicketState.PENDING)
    # The tracker's own id (issue number, key, message ts) and a link people can open.
    external_id = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["handoff", "destination"], name="external_ticket_unique"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="external_ticket_due"),
            models.Index(fields=["destination", "external_id"], name="external_ticket_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.destination_id}:{self.external_id or self.state}"


class TrackerDelivery(models.Model):
    """One accepted webhook from a destination, kept so a replay of it is refused."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE)
    # A hex SHA-256 that identifies the delivery (of its signature, or its delivery id).
    digest = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "digest"], name="tracker_delivery_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.destination_id}:{self.digest[:12]}"


class NotificationPolicy(models.Model):
    """Who hears of what outside earful: a department's chat rooms, or one member by email;
    at most so many messages an hour, none in quiet hours (in the SLA policy's time zone)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    department = models.OneToOneField(
        Department,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_policy",
    )
    member = models.OneToOneField(
        "org.Membership",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_policy",
    )
    urgent = models.BooleanField(default=True)
    # Triage urgency (0 to 1) from which a customer's new message is news.
    urgency_threshold = models.FloatField(default=0.8)
    sla_breaches = models.BooleanField(default=True)
    mentions = models.BooleanField(default=True)
    # More than this in an hour are rolled into one summary.
    max_per_hour = models.PositiveSmallIntegerField(default=6)
    # Hours of the day (0-23); quiet from `quiet_from` until `quiet_until`, across midnight.
    quiet_from = models.PositiveSmallIntegerField(null=True, blank=True)
    quiet_until = models.PositiveSmallIntegerField(null=True, blank=True)
    # What was already read: what happened before the policy existed is not news.
    event_cursor = models.PositiveBigIntegerField(default=0)
    message_cursor = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(department__isnull=False, member__isnull=True)
                | models.Q(department__isnull=True, member__isnull=False),
                name="notification_policy_one_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"notifications for {self.department_id or self.member_id}"


class NotificationKind(models.TextChoices):
    URGENT = "urgent", "New urgent item"
    SLA_BREACH = "sla_breach", "SLA breach"
    MENTION = "mention", "Mention in a note"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    SENT = "sent", "Sent"
    SUMMARISED = "summarised", "Sent in a summary"


class Notification(models.Model):
    """One thing to tell a department's chat room (`destination`) or a member (by email)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    policy = models.ForeignKey(
        NotificationPolicy, on_delete=models.CASCADE, related_name="notifications"
    )
    destination = models.ForeignKey(Destination, null=True, blank=True, on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    # What it is about, so each thing is told once per recipient.
    key = models.CharField(max_length=100)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    # Written by earful from numbers and labels; customer words only as the redaction allows.
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    # Not before: the end of quiet hours, or the next try after a failure.
    due_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # One per message sent: the items a summary rolled up share it.
    batch = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "destination", "key"],
                condition=models.Q(destination__isnull=False),
                name="notification_room_once",
            ),
            models.UniqueConstraint(
                fields=["policy", "key"],
                condition=models.Q(destination__isnull=True),
                name="notification_person_once",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="notification_due"),
            models.Index(fields=["policy", "sent_at"], name="notification_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"
