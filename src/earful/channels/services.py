"""Writes to channels."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from earful.channels.models import Channel, ChannelKind, ChannelMode, ListeningQuery
from earful.errors import DomainError
from earful.org.events import record_event
from earful.org.models import Organization


class ChannelError(DomainError):
    """A channel request that cannot be carried out, with the reason."""


@transaction.atomic
def get_or_create_channel(organization: Organization, *, name: str, kind: str) -> Channel:
    """The organization's channel of that name, created with the given kind if missing."""
    if kind not in ChannelKind.values:
        raise ChannelError(f"unknown channel kind {kind!r}; one of {', '.join(ChannelKind.values)}")
    channel = Channel.objects.filter(organization=organization, name=name).first()
    if channel is not None:
        if channel.kind != kind:
            raise ChannelError(f"channel {name!r} exists with kind {channel.kind!r}, not {kind!r}")
        return channel
    channel = Channel.objects.create(organization=organization, name=name, kind=kind)
    record_event(
        organization, "channel.created", target=channel, after={"name": name, "kind": kind}
    )
    return channel


@transaction.atomic
def create_channel(
    organization: Organization,
    *,
    name: str,
    kind: str,
    settings: dict[str, Any],
    mode: str = ChannelMode.ENGAGE,
    poll_seconds: int = 300,
    actor: User | None = None,
) -> Channel:
    """Create a channel whose settings fit its kind's schema, with its audit event."""
    from earful.channels.connector import SettingsError, parse_settings

    if kind not in ChannelKind.values:
        raise ChannelError(f"unknown channel kind {kind!r}; one of {', '.join(ChannelKind.values)}")
    try:
        parse_settings(kind, settings)
    except SettingsError as exc:
        raise ChannelError(str(exc)) from None
    if Channel.objects.filter(organization=organization, name=name).exists():
        raise ChannelError(f"a channel named {name!r} already exists")
    channel = Channel.objects.create(
        organization=organization,
        name=name,
        kind=kind,
        mode=mode,
        settings=settings,
        poll_seconds=max(30, poll_seconds),
    )
    # Settings hold credentials: the audit trail names the keys, never the values.
    record_event(
        organization,
        "channel.created",
        actor=actor,
        target=channel,
        after={"name": name, "kind": kind, "mode": mode, "settings": sorted(settings)},
    )
    return channel


@transaction.atomic
def set_channel_enabled(channel: Channel, enabled: bool, *, actor: User | None = None) -> Channel:
    """Pause or resume a channel; resuming makes it due at once and forgets past failures."""
    before = {"enabled": channel.enabled}
    channel.enabled = enabled
    fields = ["enabled"]
    if enabled:
        channel.next_fetch_at = None
        channel.failures = 0
        fields += ["next_fetch_at", "failures"]
    channel.save(update_fields=fields)
    record_event(
        channel.organization,
        "channel.enabled" if enabled else "channel.disabled",
        actor=actor,
        target=channel,
        before=before,
        after={"enabled": enabled},
    )
    return channel


LISTENING_FIELDS = ("brands", "products", "hashtags", "competitors", "exclusions", "languages")


@transaction.atomic
def save_listening_query(
    organization: Organization,
    name: str,
    *,
    channels: list[Channel] | None = None,
    actor: User | None = None,
    **terms: list[str],
) -> ListeningQuery:
    """Create or replace the organization's listening query of that name, with its event."""
    unknown = set(terms) - set(LISTENING_FIELDS)
    if unknown:
        raise ChannelError(f"unknown listening fields: {', '.join(sorted(unknown))}")
    cleaned = {
        field: [str(t).strip()[:100] for t in terms.get(field, []) if str(t).strip()][:50]
        for field in LISTENING_FIELDS
    }
    if not any(cleaned[f] for f in ("brands", "products", "hashtags", "competitors")):
        raise ChannelError("a listening query needs at least one brand, product, hashtag or rival")
    if any(c.organization_id != organization.pk for c in channels or []):
        raise ChannelError("a channel belongs to another organization")
    query = ListeningQuery.objects.filter(organization=organization, name=name).first()
    before = {f: getattr(query, f) for f in LISTENING_FIELDS} if query else None
    if query is None:
        query = ListeningQuery(organization=organization, name=name)
    for field, value in cleaned.items():
        setattr(query, field, value)
    query.save()
    query.channels.set(channels or [])
    record_event(
        organization,
        "listening_query.saved",
        actor=actor,
        target=query,
        before=before,
        after=cleaned,
    )
    return query
