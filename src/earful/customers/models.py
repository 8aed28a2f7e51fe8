"""Customers and their identities on each platform."""

from __future__ import annotations

import uuid

from django.db import models

from earful.org.models import Organization


class Customer(models.Model):
    """One person, known through one or more identities; merges are soft so they can be undone."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    display_name = models.CharField(max_length=200, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.display_name or str(self.code)


class LinkKind(models.TextChoices):
    FIRST_SEEN = "first_seen", "Created when first seen"
    VERIFIED_EMAIL = "verified_email", "Same verified email"
    PROFILE = "profile", "Listed on the profile"
    CUSTOMER_CONFIRMED = "customer_confirmed", "Confirmed by the customer"
    AGENT = "agent", "Linked by staff"


class Identity(models.Model):
    """A handle or address on one platform; it belongs to the platform, not to one inbox."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    platform = models.CharField(max_length=16)
    external_id = models.CharField(max_length=255)
    handle = models.CharField(max_length=255, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    profile_url = models.URLField(max_length=500, blank=True)
    # A snapshot (followers, subscribers) taken when last seen; shown, never used to rank.
    audience_size = models.PositiveBigIntegerField(null=True, blank=True)
    how_linked = models.CharField(
        max_length=24, choices=LinkKind.choices, default=LinkKind.FIRST_SEEN
    )
    confidence = models.FloatField(default=1.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform", "external_id"], name="identity_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.handle or self.external_id}"
