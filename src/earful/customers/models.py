"""Customers and their identities on each platform."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower

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

    class Meta:
        # Linking looks customers up by name, case-blind, a whole batch at a time.
        indexes = [models.Index(F("organization"), Lower("display_name"), name="customer_name")]

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
    # An address the platform verified for this account (not one typed in a message).
    verified_email = models.EmailField(blank=True, db_index=True)
    # Other handles or profile URLs the account lists as its own (bio, links).
    profile_links = models.JSONField(default=list, blank=True)
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


class CustomerMerge(models.Model):
    """One customer folded into another, with what moved, so that it can be undone."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    source = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=24, choices=LinkKind.choices)
    reason = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    moved_identities = models.JSONField(default=list)
    moved_conversations = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.source_id} -> {self.target_id} ({self.rule})"


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for an agent"
    CONFIRMED = "confirmed", "Confirmed: merged"
    REJECTED = "rejected", "Rejected: different people"


class LinkSuggestion(models.Model):
    """Probable evidence that two customers are one person; an agent confirms or rejects it."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    # Stored with first.pk < second.pk so a pair is suggested once.
    first = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=32)
    evidence = models.TextField()
    score = models.FloatField()
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="link_suggestion_unique")
        ]

    def __str__(self) -> str:
        return f"{self.first_id} ~ {self.second_id} ({self.rule}, {self.score:.2f})"


class LinkRequest(models.Model):
    """A "link your accounts" request: answered from another identity, it joins the two."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    token = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        Identity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"link request for {self.customer_id}"


class ClueKind(models.TextChoices):
    OWNS = "owns", "The account's own profile URL or full handle"
    CLAIMS = "claims", "A profile URL or full handle the account lists as also its own"
    PHONE = "phone", "A phone number written in a message"
    EMAIL = "email", "An email address written in a message"


class Clue(models.Model):
    """A normalized key an identity claims or wrote, indexed so matching ones are found fast."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="clues")
    kind = models.CharField(max_length=8, choices=ClueKind.choices)
    value = models.CharField(max_length=300)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["identity", "kind", "value"], name="clue_unique")
        ]
        indexes = [models.Index(fields=["organization", "kind", "value"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
