"""Writes to organizations, departments and memberships, each with its audit event."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, AnonymousUser, User
from django.db import transaction
from django.utils.text import slugify

from earful.errors import DomainError
from earful.org.events import record_event
from earful.org.models import Department, Membership, Organization, Role

DEFAULT_DEPARTMENTS = ("Support", "Social", "IT", "Legal", "R&D")


class OrgError(DomainError):
    """A request about organizations that cannot be carried out, with the reason."""


@transaction.atomic
def create_organization(
    name: str, slug: str | None = None, *, departments: tuple[str, ...] = DEFAULT_DEPARTMENTS
) -> Organization:
    """Create an organization with its default departments."""
    slug = slugify(slug or name)
    if not slug:
        raise OrgError("an organization needs a name made of letters or digits")
    if Organization.objects.filter(slug=slug).exists():
        raise OrgError(f"an organization with the slug {slug!r} already exists")
    organization = Organization.objects.create(name=name, slug=slug)
    Department.objects.bulk_create(
        Department(organization=organization, name=dept, slug=slugify(dept) or dept.lower())
        for dept in departments
    )
    record_event(organization, "organization.created", target=organization, after={"name": name})
    return organization


@transaction.atomic
def add_member(
    organization: Organization,
    email: str,
    *,
    role: Role = Role.AGENT,
    password: str | None = None,
    department: Department | None = None,
) -> Membership:
    """Add a user (created if new, identified by email) to an organization with a role."""
    email = email.strip().lower()
    if "@" not in email:
        raise OrgError(f"{email!r} is not an email address")
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=email, defaults={"email": email})
    if created:
        assert isinstance(user, AbstractUser)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    membership, _ = Membership.objects.update_or_create(
        organization=organization, user=user, defaults={"role": role, "department": department}
    )
    record_event(
        organization,
        "membership.added",
        target=membership,
        after={"email": email, "role": str(role)},
    )
    return membership


@transaction.atomic
def set_training(
    membership: Membership,
    *,
    in_training: bool,
    reviewer: Membership | None = None,
    actor: User | AnonymousUser | None = None,
) -> Membership:
    """Put a member in or out of training, with the reviewer of their drafts (None: any manager)."""
    if reviewer is not None:
        if reviewer.organization_id != membership.organization_id:
            raise OrgError("the reviewer must be a member of the same organization")
        if reviewer.pk == membership.pk:
            raise OrgError("a trainee cannot review their own drafts")
    before = _training_state(membership)
    membership.in_training = in_training
    membership.reviewer = reviewer.user if reviewer is not None else None
    membership.save(update_fields=["in_training", "reviewer"])
    record_event(
        membership.organization,
        "membership.training_set",
        actor=actor,
        target=membership,
        before=before,
        after=_training_state(membership),
    )
    return membership


def _training_state(membership: Membership) -> dict[str, object]:
    reviewer = membership.reviewer
    return {
        "email": membership.user.email,
        "in_training": membership.in_training,
        "reviewer": reviewer.email if reviewer is not None else None,
    }
