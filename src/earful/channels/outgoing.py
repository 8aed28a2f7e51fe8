"""Sending through a channel: the outbox's one call, with blocking enforced."""

from __future__ import annotations

from earful.channels.blocking import may_send_to
from earful.channels.connector import ConnectorError, OutgoingReply, build_connector
from earful.channels.http import HttpPolicy
from earful.channels.models import Channel, ChannelKind, ChannelMode
from earful.conversations.models import Message


class RecipientBlockedError(ConnectorError):
    """The recipient is blocked or muted: nothing automated may be sent to them."""


def reply_for(parent: Message, text: str, *, idempotency_key: str = "") -> OutgoingReply:
    """The reply to a stored message, with what its connector kept to thread the answer."""
    payload = parent.raw.payload if parent.raw is not None else {}
    author = payload.get("author") or {}
    source = payload.get("source") or {}
    return OutgoingReply(
        text=text,
        in_reply_to=parent.external_id,
        to=str(author.get("external_id") or ""),
        context=dict(source) if isinstance(source, dict) else {},
        idempotency_key=idempotency_key,
    )


def channel_for_reply(parent: Message) -> Channel:
    """The channel that carries the answer: the message's own, or email for the widget."""
    channel = parent.channel
    if channel.kind != ChannelKind.WIDGET:
        return channel
    email = (
        Channel.objects.filter(
            organization_id=channel.organization_id,
            kind=ChannelKind.EMAIL,
            mode=ChannelMode.ENGAGE,
            enabled=True,
        )
        .order_by("pk")
        .first()
    )
    if email is None:
        raise ConnectorError(
            "widget messages are answered by email, and no email channel is set up"
        )
    return email


def send_reply(
    channel: Channel,
    reply: OutgoingReply,
    *,
    automated: bool = False,
    policy: HttpPolicy | None = None,
) -> str:
    """Send through the channel's connector and return the platform's id for the reply."""
    if automated and not may_send_to(channel, reply.to):
        raise RecipientBlockedError(f"{reply.to} is blocked; no automated message is sent")
    connector = build_connector(channel.kind, channel.settings, policy=policy)
    if reply.media and not connector.takes_media:
        raise ConnectorError(f"{channel.get_kind_display()} posts from earful carry text only")
    return connector.send(reply)
