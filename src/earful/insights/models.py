"""Alerts raised from the traffic, outgoing webhook endpoints and their deliveries, settings."""

from __future__ import annotations

import uuid

from django.db import models

from earful.conversations.models import Message
from earful.org.models import Organization


class InsightSettings(models.Model):
    """An organization's thresholds for the insights: promote-last share, alert triggers."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE)
    # Warn when promotional posts make up more than this share of our own posts (30 days).
    promo_threshold = models.FloatField(default=0.20)
    # An unanswered complaint older than this raises an alert.
    ageing_hours = models.PositiveIntegerField(default=4)
    # A negative post with at least this many replies within two hours is spreading.
    spread_replies = models.PositiveIntegerField(default=5)

    def __str__(self) -> str:
        return f"insight settings of {self.organization}"


class AlertKind(models.TextChoices):
    VOLUME = "volume", "Volume spike"
    NEGATIVITY = "negativity", "Negativity spike"
    SPREADING = "spreading", "Negative post spreading"
    AGEING = "ageing", "Complaint unanswered"


class Alert(models.Model):
    """A spike or crisis earful noticed, with the messages that triggered it."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    # One alert per key: the same spike hour or post is never announced twice.
    key = models.CharField(max_length=100)
    summary = models.CharField(max_length=300)
    observed = models.FloatField(default=0.0)
    usual = models.FloatField(default=0.0)
    messages = models.ManyToManyField(Message, blank=True, related_name="+")
    created_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="alert_key_unique")
        ]
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.summary}"


class WebhookEndpoint(models.Model):
    """An address that receives the organization's events as HMAC-signed JSON posts."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64)
    # Event verbs (or prefixes ending in "."); empty means every event.
    verbs = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    # The last Event id turned into a delivery: events after it are still to send.
    cursor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    DEAD = "dead", "Gave up"


class WebhookDelivery(models.Model):
    """One event to post to one endpoint: claimed, retried with backoff, kept when it fails."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.BigIntegerField()
    verb = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_unique")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.verb} to {self.endpoint_id} ({self.status})"


class Snapshot(models.Model):
    """A computed default view (the dashboard or scorecard over the last 30 days), kept so
    the page loads at once however many messages there are; the tick refreshes it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    key = models.CharField(max_length=100)
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0.0)
    payload = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="snapshot_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} of {self.organization_id} at {self.computed_at:%H:%M}"


class DayRollup(models.Model):
    """Additive parts of one insight over one UTC day (docs/insights.md, "Daily rollups"):
    a count (`n`, `part`) or one bin of a duration histogram (`bucket`, with its smallest
    and largest value), per channel and breakdown key. The tick writes them; chosen ranges
    add them up instead of reading every message."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    metric = models.CharField(max_length=24)
    day = models.DateField()
    # The message's channel; 0 for "any channel" rows, NULL for a conversation with none.
    channel_id = models.IntegerField(null=True)
    key = models.CharField(max_length=64, blank=True)
    sub = models.CharField(max_length=32, blank=True)
    # Next response time: the day of the message the turn answered (the window must hold it).
    first_day = models.DateField(null=True)
    bucket = models.IntegerField(null=True)
    n = models.BigIntegerField()
    part = models.BigIntegerField()
    # The bin's smallest and largest duration: a percentile interpolates between them.
    low = models.FloatField(null=True)
    high = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "metric", "channel_id", "day"])]

    def __str__(self) -> str:
        return f"{self.metric} of {self.day}"


class RolledDay(models.Model):
    """A day whose rollups are written, with the signature of the rows they were read from:
    when the signature changes (a late reply, a relabel, a merge) the tick rolls it again."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    day = models.DateField()
    signature = models.CharField(max_length=255)
    rolled_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day"], name="rolled_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} of {self.organization_id}"


class RollupCheck(models.Model):
    """When the tick last compared an organization's day signatures (it does every 5 min)."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE)
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"rollups of {self.organization_id} checked at {self.checked_at:%H:%M}"
