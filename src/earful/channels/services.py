"""Writes to channels."""

from __future__ import annotations

from django.db import transaction

from earful.channels.models import Channel, ChannelKind
from earful.org.events import record_event
from earful.org.models import Organization


class ChannelError(ValueError):
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
