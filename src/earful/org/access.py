"""Fetching an organization for a user: 404 for missing and forbidden alike."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from earful.org.models import Department, Membership, Organization, Role


def organizations_for(user: User | AnonymousUser) -> QuerySet[Organization]:
    """The organizations the user is a member of, by name."""
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(membership__user=user).order_by("name")


def access_organization(user: User | AnonymousUser, slug: str) -> Membership:
    """The user's membership in the organization, or 404 if it is missing or not theirs."""
    if not user.is_authenticated:
        raise Http404("no such organization")
    try:
        return Membership.objects.select_related("organization").get(
            organization__slug=slug, user=user
        )
    except Membership.DoesNotExist:
        raise Http404("no such organization") from None


def access_member(organization: Organization, email: str) -> Membership:
    """The organization's member with that email, or 404."""
    return get_object_or_404(
        Membership.objects.select_related("user"), organization=organization, user__email=email
    )


def access_department(organization: Organization, slug: str) -> Department:
    """The organization's department with that slug, or 404."""
    return get_object_or_404(Department, organization=organization, slug=slug)


def manager_emails(organization: Organization) -> list[str]:
    """The addresses of the organization's managers and admins (who get escalations)."""
    emails = Membership.objects.filter(
        organization=organization, role__in=[Role.MANAGER, Role.ADMIN]
    ).values_list("user__email", flat=True)
    return sorted(set(emails) - {""})
