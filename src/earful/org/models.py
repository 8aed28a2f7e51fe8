"""Organizations (brands), their departments, staff memberships and the event log."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Organization(models.Model):
    """A brand that listens to its customers; every tenant row points here."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    # The last conversation number handed out; numbers are per organization (#1, #2, ...).
    conversation_counter = models.PositiveBigIntegerField(default=0)
    # Case references look like #ER-1042: earful adds them to replies, customers quote them.
    case_prefix = models.CharField(max_length=8, default="CASE")
    # A conversation silent this long is closed to joins: a new message starts a new
    # conversation that follows it.
    quiet_gap_hours = models.PositiveIntegerField(default=168)
    # How far back a customer's message on another channel may join their conversation.
    stitch_window_hours = models.PositiveIntegerField(default=72)
    # Whether the inbox tick hands unassigned conversations to available agents by itself.
    auto_assign = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A team that conversations can be routed or handed off to (Support, IT, Legal...)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="department_slug_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    AGENT = "agent", "Agent"
    CONTRIBUTOR = "contributor", "Contributor"


class Membership(models.Model):
    """A user's place in one organization: role, department, availability and capacity."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL)
    available = models.BooleanField(default=True)
    # How many open conversations auto-assignment may give this person at once.
    capacity = models.PositiveIntegerField(default=20)
    # When auto-assignment last gave this person a conversation: the round-robin's turn order.
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # New staff: their replies (and posts) are held as drafts until a reviewer approves them.
    in_training = models.BooleanField(default=False)
    # Who reviews this trainee's drafts; when empty, any manager or admin of the organization.
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trainee_memberships",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Event(models.Model):
    """One entry of the audit trail: who did what to which object, with before and after."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    verb = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "verb", "at"]),
            # An object's history (the conversation page's audit trail).
            models.Index(fields=["organization", "target_id"], name="event_target"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.verb} {self.target_type}:{self.target_id}"


class TriageWeights(models.Model):
    """An organization's own triage weights, retrained on its team's label corrections.

    Kept in the database rather than on one machine's disk, so that every worker of a
    scale-out installation labels the organization's messages with the same model.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="triage_weights"
    )
    data = models.BinaryField()
    digest = models.CharField(max_length=64)
    trained_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.organization_id}:{self.digest[:12]}"
