"""Blocking at the door: records from a blocked identity or matching a blocked pattern are
dropped before they are stored, and nothing automated is ever sent to a blocked identity.

A block lasts until removed; a mute has an end date. Patterns are plain text with `*` as a
wildcard, never regular expressions, so a rule cannot be written that hangs the matcher.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from earful.channels.models import BlockAction, BlockRule, Channel
from earful.channels.records import Rejection
from earful.org.events import record_event
from earful.org.models import Organization

Item = tuple[int, dict[str, Any] | Rejection]


@dataclass(frozen=True)
class Dropped:
    """A record refused at the door, and the rule that refused it."""

    record_number: int
    external_id: str
    rule: str


@dataclass(frozen=True)
class Rules:
    """A channel's active rules, compiled once per batch."""

    identities: frozenset[str]
    patterns: tuple[tuple[tuple[str, ...], str], ...]

    def blocks_author(self, author: object) -> str | None:
        """The rule that blocks this record author, if any."""
        if not isinstance(author, dict):
            return None
        for key in ("external_id", "handle"):
            value = str(author.get(key) or "").casefold().lstrip("@")
            if value and value in self.identities:
                return f"identity {value}"
        return None

    def blocks_text(self, text: str) -> str | None:
        """The rule whose pattern the text contains, if any."""
        folded = text.casefold()
        for parts, label in self.patterns:
            if _contains_in_order(folded, parts):
                return f"pattern {label}"
        return None


def _contains_in_order(text: str, parts: tuple[str, ...]) -> bool:
    """Whether the parts of a `*` pattern appear in the text in order.

    A left-to-right scan, linear in the text: a regex of several `.*?` can take
    polynomial time on a long hostile message, and customers write the messages.
    """
    position = 0
    for part in parts:
        found = text.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def active_rules(channel: Channel, now: datetime | None = None) -> Rules:
    """The block and mute rules in force for the channel now."""
    now = now or timezone.now()
    rules = BlockRule.objects.filter(organization_id=channel.organization_id).filter(
        Q(channel__isnull=True) | Q(channel=channel),
        Q(platform="") | Q(platform=channel.kind),
        Q(until__isnull=True) | Q(until__gt=now),
    )
    identities = set()
    patterns = []
    for rule in rules:
        if rule.identity:
            identities.add(rule.identity.casefold().lstrip("@"))
        if rule.pattern:
            parts = tuple(p for p in rule.pattern.casefold().split("*") if p)
            if parts:
                patterns.append((parts, rule.pattern))
    return Rules(frozenset(identities), tuple(patterns))


def drop_blocked(
    channel: Channel, records: Iterable[Item], rules: Rules | None = None
) -> tuple[list[Item], list[Dropped]]:
    """Split (record number, record) pairs into those kept and those a block rule refuses."""
    rules = rules if rules is not None else active_rules(channel)
    kept: list[Item] = []
    dropped: list[Dropped] = []
    for number, record in records:
        if isinstance(record, Rejection):
            kept.append((number, record))
            continue
        reason = rules.blocks_author(record.get("author")) or rules.blocks_text(
            str(record.get("text", ""))
        )
        if reason:
            dropped.append(Dropped(number, str(record.get("external_id", ""))[:80], reason))
        else:
            kept.append((number, record))
    return kept, dropped


def may_send_to(channel: Channel, recipient: str) -> bool:
    """False when the recipient is blocked or muted: no automated message may go to them."""
    if not recipient:
        return True
    return active_rules(channel).blocks_author({"external_id": recipient}) is None


@transaction.atomic
def add_block_rule(
    organization: Organization,
    *,
    identity: str = "",
    pattern: str = "",
    platform: str = "",
    channel: Channel | None = None,
    until: datetime | None = None,
    reason: str = "",
    actor: Any = None,
) -> BlockRule:
    """Block (or, with `until`, mute) an identity or a text pattern, with its audit event."""
    identity, pattern = identity.strip(), pattern.strip()
    if not identity and not pattern:
        raise ValueError("a block rule needs an identity or a pattern")
    if pattern and not pattern.replace("*", "").strip():
        raise ValueError("a pattern of only wildcards would block everything")
    if channel is not None and channel.organization_id != organization.pk:
        raise ValueError("the channel belongs to another organization")
    rule = BlockRule.objects.create(
        organization=organization,
        channel=channel,
        action=BlockAction.MUTE if until else BlockAction.BLOCK,
        platform=platform,
        identity=identity[:255],
        pattern=pattern[:200],
        until=until,
        reason=reason[:200],
    )
    record_event(
        organization,
        "block_rule.created",
        actor=actor,
        target=rule,
        after={"identity": rule.identity, "pattern": rule.pattern, "action": rule.action},
    )
    return rule


def remove_block_rule(rule: BlockRule, *, actor: Any = None) -> None:
    """Lift a block or mute, with its audit event."""
    with transaction.atomic():
        record_event(
            rule.organization,
            "block_rule.removed",
            actor=actor,
            target=rule,
            before={"identity": rule.identity, "pattern": rule.pattern, "action": rule.action},
        )
        rule.delete()
