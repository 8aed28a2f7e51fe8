"""The feedback board (ideas, supporters, status history), honest-answer requests, settings."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from earful.channels.models import Channel
from earful.conversations.models import Conversation, Message
from earful.customers.models import Customer
from earful.org.models import Organization

DEFAULT_QUESTION = (
    "How did we do? Tell us in your own words: what worked, what did not, what you would change."
)
DEFAULT_SHIPPED = (
    'Hello {name}, you asked for "{idea}". It has shipped: {response} Thank you for telling us. '
    "{link}"
)


class Board(models.Model):
    """An organization's public board and its feedback settings (one per organization)."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE)
    # The public address /b/<slug>/; apart from the organization's slug, which staff URLs use.
    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    # Where customers reach earful: links in requests and notices are made from it.
    public_url = models.URLField(default="http://127.0.0.1:8000")
    # New ideas and comments wait for a person's approval before the public sees them.
    approve_first = models.BooleanField(default=False)
    # Ask for an honest answer when a conversation is resolved.
    request_after_resolve = models.BooleanField(default=False)
    request_question = models.TextField(default=DEFAULT_QUESTION)
    # At most one request per customer in this many days (documented in docs/feedback.md).
    request_interval_days = models.PositiveIntegerField(default=30)
    # Placeholders: {name}, {idea}, {response}, {link}.
    shipped_template = models.TextField(default=DEFAULT_SHIPPED)

    def __str__(self) -> str:
        return self.title


class IdeaStatus(models.TextChoices):
    OPEN = "open", "Open"
    UNDER_REVIEW = "under_review", "Under review"
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    SHIPPED = "shipped", "Shipped"
    DECLINED = "declined", "Declined"
    DUPLICATE = "duplicate", "Duplicate"


class Visibility(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    SHOWN = "shown", "Shown"
    HIDDEN = "hidden", "Hidden by staff"


class Idea(models.Model):
    """An idea or problem, posted on the board or opened by staff from a message."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True)
    author = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL)
    # The message the idea was posted as (board) or opened from (any channel).
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=IdeaStatus.choices, default=IdeaStatus.OPEN)
    public_response = models.TextField(blank=True)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.SHOWN
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    # float32 sentence embedding of title + details (empty when the encoder is unavailable).
    embedding = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(auto_now_add=True)
    shipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="idea_number_unique")
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"#{self.number} {self.title}"


class SupportHow(models.TextChoices):
    POSTED = "posted", "Posted the idea"
    VOTE = "vote", "Voted"
    COMMENT = "comment", "Commented"
    LINKED_MESSAGE = "linked_message", "Asked for it in a message"


class IdeaSupporter(models.Model):
    """A customer who wants the idea; each is counted once and told once when it ships."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="supporters")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    how = models.CharField(max_length=16, choices=SupportHow.choices)
    # The message they asked in, answered when the idea ships (none for a plain vote).
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notice = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idea", "customer"], name="idea_supporter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} supports {self.idea_id} ({self.how})"


class IdeaComment(models.Model):
    """A customer's public comment on an idea."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.SHOWN
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"comment on {self.idea_id}"


class IdeaStatusChange(models.Model):
    """One status change of an idea, with the public response given at that moment."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="status_changes")
    before = models.CharField(max_length=16, choices=IdeaStatus.choices)
    after = models.CharField(max_length=16, choices=IdeaStatus.choices)
    response = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.idea_id}: {self.before} -> {self.after}"


class StaffNote(models.Model):
    """A private note on an idea: staff only, never on a public page."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="staff_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"note on {self.idea_id}"


class BoardBlock(models.Model):
    """A customer staff blocked from the board: nothing more they post is accepted or shown."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "customer"], name="board_block_unique")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} blocked"


class FeedbackRequest(models.Model):
    """One open question sent to a customer after service, answered through a personal link."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A visit or order reference given by CSV or the API.
    reference = models.CharField(max_length=200, blank=True)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    question = models.TextField()
    sent_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scale = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "customer", "sent_at"])]

    def __str__(self) -> str:
        return f"request {self.code} to {self.customer_id}"


class FeedbackOptOut(models.Model):
    """A customer who asked not to receive feedback requests again."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "customer"], name="feedback_opt_out_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} opted out"
