"""Writing to one customer on their own channel through the outbox (notices and requests)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from earful.channels.models import Channel, ChannelKind, ChannelMode
from earful.conversations.models import Direction, Message, MessageKind, Visibility
from earful.customers.models import Customer, Identity
from earful.inbox.outbox import enqueue
from earful.inbox.replies import LENGTH_LIMITS

# Kinds whose messages cannot be answered where they were written: answered by email.
OWN_PAGES = frozenset({ChannelKind.BOARD, ChannelKind.WIDGET})
PRIVATE_KINDS = frozenset({MessageKind.DIRECT, MessageKind.EMAIL})
# Platforms whose identities are named by the address the customer wrote from or gave.
ADDRESS_PLATFORMS = (ChannelKind.EMAIL, ChannelKind.BOARD, ChannelKind.WIDGET)


@dataclass(frozen=True)
class Route:
    """How a message reaches a customer: the channel, what it answers, and an address."""

    channel: Channel
    parent: Message | None
    recipient: str = ""

    @property
    def limit(self) -> int | None:
        """The most characters one message on this route may have."""
        return LENGTH_LIMITS.get(self.channel.kind)


def addresses_of(organization_id: int, customer_ids: Iterable[int]) -> dict[int, str]:
    """An address each customer gave us or wrote from (verified ones first), in one query."""
    found: dict[int, str] = {}
    rows = (
        Identity.objects.filter(organization_id=organization_id, customer_id__in=list(customer_ids))
        .filter(
            Q(platform__in=ADDRESS_PLATFORMS, external_id__contains="@") | ~Q(verified_email="")
        )
        .order_by("pk")
        .values_list("customer_id", "verified_email", "external_id")
    )
    # Verified addresses first, then the oldest given; the first one per customer wins.
    for customer_id, verified, external_id in sorted(rows, key=lambda row: row[1] == ""):
        found.setdefault(customer_id, (verified or external_id).lower())
    return found


def email_of(customer: Customer) -> str:
    """An address the customer gave us or wrote from, or ''."""
    return addresses_of(customer.organization_id, [customer.pk]).get(customer.pk, "")


def email_channel(organization_id: int) -> Channel | None:
    """The organization's first enabled email channel that may send."""
    return (
        Channel.objects.filter(
            organization_id=organization_id,
            kind=ChannelKind.EMAIL,
            mode=ChannelMode.ENGAGE,
            enabled=True,
        )
        .order_by("pk")
        .first()
    )


@dataclass(frozen=True)
class Directory:
    """What routing needs to know, read once for many customers."""

    email: Channel | None
    addresses: dict[int, str]
    # Where a customer with no message and no mail channel is recorded (the board's channel).
    fallback: Channel | None = None


def directory_for(
    organization_id: int, customer_ids: Iterable[int], fallback: Channel | None = None
) -> Directory:
    """The mail channel and the customers' addresses, in two queries."""
    return Directory(
        email_channel(organization_id), addresses_of(organization_id, customer_ids), fallback
    )


def route_to(
    customer_id: int, parent: Message | None, directory: Directory, *, private: bool
) -> Route | None:
    """The customer's own channel: an answer to their message, or email; None if unreachable.

    With `private`, a public post is answered by email when an address is known, so a
    personal link is not published. Board and widget authors without a mail channel get the
    message recorded on the page's channel (or the directory's fallback): the outbox marks
    it recorded, so staff still see what was owed.
    """
    answerable = parent is not None and parent.channel.kind not in OWN_PAGES
    if parent is not None and answerable and (not private or parent.kind in PRIVATE_KINDS):
        return Route(parent.channel, parent)
    address = directory.addresses.get(customer_id, "")
    if address and directory.email is not None:
        return Route(directory.email, parent, address)
    if parent is not None:
        return Route(parent.channel, parent)
    return None if directory.fallback is None else Route(directory.fallback, None)


def write(route: Route, text: str, *, now: datetime) -> Message:
    """Store our message on the route and put it in the outbox (delivered on commit)."""
    parent, channel = route.parent, route.channel
    kind: str
    if channel.kind == ChannelKind.EMAIL:
        kind = MessageKind.EMAIL
    elif parent is not None and parent.kind in (MessageKind.DIRECT, MessageKind.BOARD):
        kind = parent.kind
    else:
        kind = MessageKind.REPLY
    private = bool(route.recipient) or kind in PRIVATE_KINDS
    message = Message(
        organization_id=channel.organization_id,
        channel=channel,
        conversation_id=parent.conversation_id if parent is not None else None,
        direction=Direction.OUT,
        kind=kind,
        visibility=Visibility.PRIVATE if private else Visibility.PUBLIC,
        in_reply_to_external_id=parent.external_id if parent and not route.recipient else "",
        parent=parent,
        text=text,
        created_at=now,
    )
    message.external_id = f"earful:{message.code.hex}"
    message.save()
    enqueue(message, parent, channel, now, recipient=route.recipient)
    return message


def fit(text: str, limit: int | None, short: str) -> str:
    """The text, or the short form when the channel cannot carry it, clipped as a last resort."""
    if limit is None or len(text) <= limit:
        return text
    if len(short) <= limit:
        return short
    return short[: limit - 1] + "…"
