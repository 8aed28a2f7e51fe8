"""Channel accounts and the raw messages they deliver, stored before any processing."""

from __future__ import annotations

import uuid

from django.db import models

from earful.org.models import Organization


class ChannelKind(models.TextChoices):
    X = "x", "X (Twitter)"
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    REDDIT = "reddit", "Reddit"
    RSS = "rss", "RSS / Atom"
    EMAIL = "email", "Email"
    REVIEWS = "reviews", "Reviews"
    FORUM = "forum", "Forum"
    BOARD = "board", "Feedback board"
    WEBHOOK = "webhook", "Webhook"
    FILE = "file", "File import"


class ChannelMode(models.TextChoices):
    LISTEN = "listen", "Listen only"
    ENGAGE = "engage", "Listen and reply"


class Channel(models.Model):
    """One account or source on a platform that earful reads from and may reply through."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=100)
    mode = models.CharField(max_length=8, choices=ChannelMode.choices, default=ChannelMode.ENGAGE)
    # Typed per kind by the connector's settings schema (the channels issue); stored as JSON.
    settings = models.JSONField(default=dict, blank=True)
    cursor = models.JSONField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    last_fetch_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="channel_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class RawMessage(models.Model):
    """A message exactly as the channel delivered it: replayable and deduplicated on arrival."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE)
    external_id = models.CharField(max_length=255)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="raw_message_unique")
        ]
        indexes = [
            models.Index(
                fields=["channel", "id"],
                name="raw_message_pending",
                condition=models.Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.external_id}"
