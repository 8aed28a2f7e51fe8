"""Conversations and everything said in them: messages, internal notes and hand-offs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from earful.channels.models import Channel, RawMessage
from earful.customers.models import Customer, Identity
from earful.org.models import Department, Organization


class Status(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending (waiting on the customer)"
    WAITING_ON_DEPARTMENT = "waiting_on_department", "Waiting on a department"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"
    MERGED = "merged", "Merged"


class Priority(models.IntegerChoices):
    LOW = 0, "Low"
    NORMAL = 1, "Normal"
    HIGH = 2, "High"
    URGENT = 3, "Urgent"


class Origin(models.TextChoices):
    INBOUND = "inbound", "Customer wrote to us"
    LISTENING = "listening", "Heard by listening"
    PROACTIVE = "proactive", "We wrote first"


class NotWaiting(models.Func):
    """True when nobody waits for us: the inbox sorts on it, then on waiting_since.

    That is waiting_since ascending with nulls last, in a form SQLite can read from an
    index (it cannot index NULLS LAST); the queue indexes below start with the same terms.
    """

    template = "(%(expressions)s IS NULL)"
    output_field = models.BooleanField()

    def __init__(self) -> None:
        super().__init__(models.F("waiting_since"))


# The inbox queues' sort orders (earful.inbox.queues); the indexes below follow them.
URGENCY_ORDER = (
    models.F("priority").desc(),
    models.F("urgency").desc(),
    NotWaiting().asc(),
    models.F("waiting_since").asc(),
    models.F("number").asc(),
)
AGE_ORDER = (
    NotWaiting().asc(),
    models.F("waiting_since").asc(),
    models.F("started_at").asc(),
    models.F("number").asc(),
)


class Conversation(models.Model):
    """One customer matter, which may span several channels."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    number = models.PositiveBigIntegerField()
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.OPEN)
    priority = models.SmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    urgency = models.FloatField(default=0.0)
    # When `urgency` was last computed: the inbox tick ages waiting conversations from it.
    urgency_at = models.DateTimeField(null=True, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.INBOUND)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL)
    channels = models.ManyToManyField(Channel, blank=True, related_name="conversations")
    started_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    # Set while the customer waits for us; cleared by our reply. The inbox sorts on it.
    waiting_since = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_due = models.DateTimeField(null=True, blank=True)
    next_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    # The earlier conversation this one restarts after it went quiet.
    follows = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followed_by"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="conversation_number_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "waiting_since"]),
            models.Index(fields=["organization", "last_message_at"]),
            models.Index(fields=["organization", "urgency_at"], name="conversation_urgency_age"),
            # Each queue walks one of these in its sort order and stops at the page.
            models.Index(
                models.F("organization"), *URGENCY_ORDER, name="conversation_urgency_order"
            ),
            models.Index(
                models.F("organization"),
                models.F("assignee"),
                *URGENCY_ORDER,
                name="conversation_assignee_order",
            ),
            models.Index(models.F("organization"), *AGE_ORDER, name="conversation_age_order"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"


class Direction(models.TextChoices):
    IN = "in", "From a customer"
    OUT = "out", "From us"


class MessageKind(models.TextChoices):
    POST = "post", "Public post"
    REPLY = "reply", "Public reply"
    DIRECT = "direct", "Direct message"
    EMAIL = "email", "Email"
    REVIEW = "review", "Review"
    BOARD = "board", "Feedback board"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    PRIVATE = "private", "Private"


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class Intent(models.TextChoices):
    COMPLAINT = "complaint", "Complaint"
    QUESTION = "question", "Question"
    SUGGESTION = "suggestion", "Suggestion"
    PRAISE = "praise", "Praise"
    OTHER = "other", "Other"


class JoinRule(models.TextChoices):
    NEW = "new", "Started the conversation"
    REPLY = "reply", "Answers a message in it"
    REFERENCE = "reference", "Quotes its case reference"
    LINK = "link", "Links to a message in it"
    SAME_SUBJECT = "same_subject", "Same customer, same subject, shortly after"
    SAME_CUSTOMER = "same_customer", "Same customer, conversation still open"
    AGENT = "agent", "Moved by staff"


class Message(models.Model):
    """Anything said on any channel, in or out, with the triage labels it was given."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE)
    raw = models.OneToOneField(RawMessage, null=True, blank=True, on_delete=models.SET_NULL)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    identity = models.ForeignKey(Identity, null=True, blank=True, on_delete=models.SET_NULL)
    author_handle = models.CharField(max_length=255, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=8, choices=MessageKind.choices, default=MessageKind.POST)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    external_id = models.CharField(max_length=255)
    in_reply_to_external_id = models.CharField(max_length=255, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    url = models.URLField(max_length=1000, blank=True)
    text = models.TextField()
    created_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    sentiment = models.CharField(max_length=8, choices=Sentiment.choices, blank=True)
    sentiment_scores = models.JSONField(null=True, blank=True)
    complaint = models.BooleanField(null=True)
    complaint_score = models.FloatField(null=True, blank=True)
    question = models.BooleanField(null=True)
    suggestion = models.BooleanField(null=True)
    suggestion_score = models.FloatField(null=True, blank=True)
    praise = models.BooleanField(null=True)
    intent = models.CharField(max_length=12, choices=Intent.choices, blank=True)
    needs_reply = models.BooleanField(null=True)
    language = models.CharField(max_length=8, blank=True)
    topic = models.CharField(max_length=32, blank=True)
    urgency = models.FloatField(null=True, blank=True)
    triage_model = models.CharField(max_length=32, blank=True)
    # Why this message is in its conversation, and how sure earful was.
    join_rule = models.CharField(max_length=16, choices=JoinRule.choices, default=JoinRule.NEW)
    join_confidence = models.FloatField(default=1.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="message_unique")
        ]
        indexes = [
            models.Index(fields=["organization", "created_at"]),
            models.Index(fields=["channel", "in_reply_to_external_id"]),
            models.Index(fields=["conversation", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.channel_id}:{self.external_id}"


class Note(models.Model):
    """An internal note on a conversation; customers never see it."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"note on #{self.conversation_id}"


class HandoffStatus(models.TextChoices):
    OPEN = "open", "Waiting on the department"
    ACKNOWLEDGED = "acknowledged", "Acknowledged by the department"
    IN_PROGRESS = "in_progress", "In progress"
    ANSWERED = "answered", "Answered"
    FIXED = "fixed", "Fixed, customer not yet told"
    WONT_FIX = "wont_fix", "Won't fix, customer not yet told"
    REPORTED_BACK = "reported_back", "Customer told"
    CANCELLED = "cancelled", "Cancelled"


# The department still owes an answer in these; the customer is owed a report in the next.
WITH_DEPARTMENT = (
    HandoffStatus.OPEN,
    HandoffStatus.ACKNOWLEDGED,
    HandoffStatus.IN_PROGRESS,
    HandoffStatus.ANSWERED,
)
TO_REPORT_BACK = (HandoffStatus.FIXED, HandoffStatus.WONT_FIX)


class Handoff(models.Model):
    """A question passed to another department; the customer is owed an answer until told."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="handoffs"
    )
    from_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    question = models.TextField()
    status = models.CharField(
        max_length=16, choices=HandoffStatus.choices, default=HandoffStatus.OPEN
    )
    # When it was asked, on the service's clock (imports and the demo hand off in the past).
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    fixed_at = models.DateTimeField(null=True, blank=True)
    report_back_due = models.DateTimeField(null=True, blank=True)
    # When the tick escalated it for being unanswered past `due_at` (once).
    escalated_at = models.DateTimeField(null=True, blank=True)
    reported_back_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"hand-off of #{self.conversation_id} to {self.to_department_id}"
