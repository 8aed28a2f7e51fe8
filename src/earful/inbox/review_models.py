"""A trainee's reply held for review: its text, the tone guard's findings and the outcome.

Kept apart from earful.inbox.models (which imports it, so Django registers it with the
inbox app) because the review workflow is its own concern.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from earful.conversations.models import Conversation, Message
from earful.org.models import Organization


class DraftStatus(models.TextChoices):
    HELD = "held", "Held for review"
    SENT_BACK = "sent_back", "Sent back"
    APPROVED = "approved", "Approved and sent"


class ReplyDraft(models.Model):
    """A reply a member in training wrote: held until a reviewer approves or sends it back."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="reply_drafts"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reply_drafts"
    )
    # Where the reply goes once approved: the customer message it answers, or an email.
    parent = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email_to = models.EmailField(blank=True)
    # Set when the reply reports a fixed hand-off back: approving it tells the hand-off too.
    handoff = models.ForeignKey(
        "conversations.Handoff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    status = models.CharField(max_length=10, choices=DraftStatus.choices, default=DraftStatus.HELD)
    # The tone guard's findings on the text as last submitted: [{category, reason, phrase}].
    tone_flags = models.JSONField(default=list)
    tone_suggestion = models.TextField(blank=True)
    reviewer_comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewed_reply_drafts",
    )
    times_sent_back = models.PositiveIntegerField(default=0)
    # Whether the reviewer changed the text before approving it.
    edited_by_reviewer = models.BooleanField(default=False)
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="approved_draft"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["organization", "status"], name="replydraft_status")]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"
