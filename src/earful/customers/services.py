"""Writes to customers and identities."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from earful.channels.records import Author
from earful.customers.models import Customer, Identity
from earful.org.models import Organization

_SNAPSHOT_FIELDS = (
    "handle",
    "display_name",
    "profile_url",
    "audience_size",
    "verified_email",
    "profile_links",
)


@dataclass
class ResolvedIdentities:
    """The identity of each author (by external id), and which were created or changed."""

    by_external_id: dict[str, Identity] = field(default_factory=dict)
    fresh: list[Identity] = field(default_factory=list)


def resolve_identities(
    organization: Organization, platform: str, authors: Iterable[Author]
) -> ResolvedIdentities:
    """Find or create the identity (and, when new, its customer) of each author, in bulk.

    Profile fields are snapshots: a later message with a new follower count updates them.
    """
    latest: dict[str, Author] = {}
    for author in authors:
        latest[author.external_id] = author
    if not latest:
        return ResolvedIdentities()
    known = {
        identity.external_id: identity
        for identity in Identity.objects.filter(
            organization=organization, platform=platform, external_id__in=list(latest)
        )
    }
    changed = [
        identity
        for external_id, identity in known.items()
        if _refresh_snapshot(identity, latest[external_id])
    ]
    if changed:
        Identity.objects.bulk_update(changed, _SNAPSHOT_FIELDS)

    new_authors = [author for external_id, author in latest.items() if external_id not in known]
    customers = Customer.objects.bulk_create(
        Customer(organization=organization, display_name=_name_of(author)) for author in new_authors
    )
    created = Identity.objects.bulk_create(
        Identity(
            organization=organization,
            customer=customer,
            platform=platform,
            external_id=author.external_id,
            handle=author.handle,
            display_name=author.display_name,
            profile_url=author.profile_url,
            audience_size=author.audience_size,
            verified_email=author.verified_email,
            profile_links=author.profile_links,
        )
        for author, customer in zip(new_authors, customers, strict=True)
    )
    known.update((identity.external_id, identity) for identity in created)
    return ResolvedIdentities(known, [*changed, *created])


def _name_of(author: Author) -> str:
    return (author.display_name or author.handle or author.external_id)[:200]


def _refresh_snapshot(identity: Identity, author: Author) -> bool:
    changed = False
    for name in _SNAPSHOT_FIELDS:
        value = getattr(author, name)
        if value not in ("", None, []) and getattr(identity, name) != value:
            setattr(identity, name, value)
            changed = True
    return changed
