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
    TELEGRAM = "telegram", "Telegram"
    DISCOURSE = "discourse", "Discourse forum"
    BOARD = "board", "Feedback board"
    WEBHOOK = "webhook", "Webhook"
    WIDGET = "widget", "Feedback widget"
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
    # Scheduler state: when the channel is next due, how many fetches failed in a row (the
    # backoff exponent), and the last success and newest item seen, from which lag is shown.
    poll_seconds = models.PositiveIntegerField(default=300)
    next_fetch_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    newest_item_at = models.DateTimeField(null=True, blank=True)
    # Where a push stream (e.g. Bluesky's Jetstream) resumes; apart from the polling cursor
    # because both may run at once.
    stream_cursor = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="channel_name_unique")
        ]
        indexes = [models.Index(fields=["enabled", "next_fetch_at"], name="channel_due")]

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
    # Set when processing this message alone failed: it waits in the dead letters, out of
    # the way of the rest, until someone retries it.
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="raw_message_unique")
        ]
        indexes = [
            models.Index(
                fields=["channel", "id"],
                name="raw_message_pending",
                condition=models.Q(processed_at__isnull=True),
            ),
            models.Index(
                fields=["organization", "dead_at"],
                name="raw_message_dead",
                condition=models.Q(dead_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.external_id}"


class ListeningQuery(models.Model):
    """What an organization listens for: posts naming it, its products or rivals, minus noise."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    # Each list holds terms or quoted phrases; a post is heard when it names any of them
    # and none of the exclusions.
    brands = models.JSONField(default=list, blank=True)
    products = models.JSONField(default=list, blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    competitors = models.JSONField(default=list, blank=True)
    exclusions = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    # Empty means every listening channel of the organization.
    channels = models.ManyToManyField(Channel, blank=True, related_name="listening_queries")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "listening queries"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="listening_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class BlockAction(models.TextChoices):
    BLOCK = "block", "Block (for good)"
    MUTE = "mute", "Mute (until a date)"


class BlockRule(models.Model):
    """An identity or a text pattern refused at the door: nothing stored, nothing sent to it."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    # Null: every channel of the organization.
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE)
    action = models.CharField(max_length=8, choices=BlockAction.choices, default=BlockAction.BLOCK)
    # An identity rule names a platform and an external id or handle; a pattern rule a text.
    platform = models.CharField(max_length=16, blank=True)
    identity = models.CharField(max_length=255, blank=True)
    pattern = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(identity="") | ~models.Q(pattern=""),
                name="block_rule_names_something",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.identity or self.pattern}"


class InboundDelivery(models.Model):
    """One accepted push (webhook or widget), kept to answer a retry once and to count floods."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE)
    # The hex SHA-256 of the signature (webhook) or of the submission (widget).
    digest = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)
    stored = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "digest"], name="inbound_delivery_unique")
        ]
        indexes = [models.Index(fields=["channel", "received_at"], name="inbound_delivery_recent")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.digest[:12]}"
