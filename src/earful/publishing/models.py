"""The brand's own posts: drafts, schedules, the listen-first gate's holds, and their media."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from earful.channels.models import Channel
from earful.conversations.models import Message
from earful.org.models import Organization


class PostState(models.TextChoices):
    DRAFT = "draft", "Draft"
    REVIEW = "review", "Waiting for a reviewer"
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held by the listen-first gate"
    PUBLISHING = "publishing", "Publishing"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# States in which a post may still be edited, scheduled or cancelled.
OPEN_STATES = (PostState.DRAFT, PostState.REVIEW, PostState.SCHEDULED, PostState.HELD)


class PublishSettings(models.Model):
    """An organization's listen-first gate: which checks run and their thresholds.

    The promote-last limit is the insights' own threshold (InsightSettings.promo_threshold),
    so the gate and the monitor never disagree.
    """

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE)
    # Hold a post while a complaint or question on its channel has waited longer than this.
    unanswered_minutes = models.PositiveIntegerField(default=60)
    check_unanswered = models.BooleanField(default=True)
    # Hold a post while a spike or crisis alert younger than this is open.
    alert_hours = models.PositiveIntegerField(default=6)
    check_alerts = models.BooleanField(default=True)
    # Hold a promotional post that would take the 30-day share over the limit.
    check_promotion = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"publish settings of {self.organization}"


class Post(models.Model):
    """One thing the brand says, to one or more channels, now or at a set time."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    # Channel code -> the text for that channel when it differs (a shorter one for X).
    overrides = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=12, choices=PostState.choices, default=PostState.DRAFT)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    # What the gate found when it last held the post: [{"rule", "channel", "text", "links"}].
    hold_reasons = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    override_reason = models.TextField(blank=True)
    # A trainee's post waits for review; what they asked for happens once it is approved.
    wants = models.CharField(max_length=8, blank=True)
    review_comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "scheduled_at"]),
            models.Index(fields=["organization", "scheduled_at"]),
        ]

    def __str__(self) -> str:
        return f"post {self.code} ({self.state})"

    def text_for(self, channel: Channel) -> str:
        """The text this post says on the channel."""
        override = self.overrides.get(str(channel.code), "")
        return str(override) if str(override).strip() else self.text


class PostTarget(models.Model):
    """One channel a post goes to, and the message that carried it there."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="targets")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="post_target"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "channel"], name="post_target_unique")
        ]

    def __str__(self) -> str:
        return f"{self.post_id} -> {self.channel_id}"


class PostMedia(models.Model):
    """An image or video attached to a post, stored under EARFUL_HOME/media/posts/."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="media")
    # Relative to EARFUL_HOME; the name on disk is ours, never the uploader's.
    path = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    # The uploader's file name, shown escaped and never used on disk.
    name = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=1500, blank=True)

    def __str__(self) -> str:
        return f"{self.content_type} of {self.post_id}"
