"""Channel status over the REST API: last fetch, errors, lag; check and pause/resume."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from earful.channels.access import access_block_rule, access_channel, access_manager
from earful.channels.blocking import add_block_rule, remove_block_rule
from earful.channels.connector import build_connector
from earful.channels.http import OutboundError
from earful.channels.models import BlockRule, Channel
from earful.channels.services import set_channel_enabled
from earful.org.access import access_organization

router = Router(tags=["channels"], auth=django_auth)


class ChannelStatusOut(Schema):
    code: str
    name: str
    kind: str
    mode: str
    enabled: bool
    last_fetch_at: datetime | None
    last_success_at: datetime | None
    next_fetch_at: datetime | None
    newest_item_at: datetime | None
    failures: int
    last_error: str
    lag_seconds: int | None

    @staticmethod
    def resolve_code(obj: Channel) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_lag_seconds(obj: Channel) -> int | None:
        # How stale the channel may be: time since its last successful fetch.
        if obj.last_success_at is None:
            return None
        return max(0, int((timezone.now() - obj.last_success_at).total_seconds()))


class CheckOut(Schema):
    ok: bool
    message: str


class EnabledIn(Schema):
    enabled: bool


@router.get("/orgs/{org}/channels", response=list[ChannelStatusOut])
def channels(request: HttpRequest, org: str) -> list[Channel]:
    """The organization's channels with their fetch status, by name."""
    membership = access_organization(request.user, org)
    return list(Channel.objects.filter(organization=membership.organization).order_by("name"))


@router.get("/orgs/{org}/channels/{code}", response=ChannelStatusOut)
def channel_status(request: HttpRequest, org: str, code: str) -> Channel:
    """One channel's fetch status."""
    return access_channel(request.user, org, code)


@router.post("/orgs/{org}/channels/{code}/check", response=CheckOut)
def channel_check(request: HttpRequest, org: str, code: str) -> CheckOut:
    """Try the channel's credentials now and say what works or what does not."""
    channel = access_channel(request.user, org, code, manage=True)
    try:
        message = build_connector(channel.kind, channel.settings).check()
    except OutboundError as exc:
        return CheckOut(ok=False, message=str(exc))
    return CheckOut(ok=True, message=message)


@router.post("/orgs/{org}/channels/{code}/enabled", response=ChannelStatusOut)
def channel_enabled(request: HttpRequest, org: str, code: str, body: EnabledIn) -> Channel:
    """Pause or resume a channel; resuming makes it due at once."""
    channel = access_channel(request.user, org, code, manage=True)
    user = request.user if request.user.is_authenticated else None
    return set_channel_enabled(channel, body.enabled, actor=user)


class BlockRuleIn(Schema):
    identity: str = ""
    pattern: str = ""
    platform: str = ""
    channel: str = ""
    until: datetime | None = None
    reason: str = ""


class BlockRuleOut(Schema):
    code: str
    action: str
    identity: str
    pattern: str
    platform: str
    channel: str
    until: datetime | None
    reason: str
    created_at: datetime

    @staticmethod
    def resolve_code(obj: BlockRule) -> str:
        return str(obj.code)

    @staticmethod
    def resolve_channel(obj: BlockRule) -> str:
        return str(obj.channel.code) if obj.channel else ""


@router.get("/orgs/{org}/blocks", response=list[BlockRuleOut])
def block_rules(request: HttpRequest, org: str) -> list[BlockRule]:
    """The organization's block and mute rules, newest first (admins and managers)."""
    membership = access_manager(request.user, org)
    rules = BlockRule.objects.filter(organization=membership.organization)
    return list(rules.select_related("channel").order_by("-created_at"))


@router.post("/orgs/{org}/blocks", response={201: BlockRuleOut})
def block(request: HttpRequest, org: str, body: BlockRuleIn) -> BlockRule:
    """Block an identity or a pattern (a mute when `until` is given): nothing more is stored."""
    membership = access_manager(request.user, org)
    channel = access_channel(request.user, org, body.channel) if body.channel else None
    try:
        rule = add_block_rule(
            membership.organization,
            identity=body.identity,
            pattern=body.pattern,
            platform=body.platform,
            channel=channel,
            until=body.until,
            reason=body.reason,
            actor=request.user,
        )
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    return rule


@router.delete("/orgs/{org}/blocks/{code}", response={204: None})
def unblock(request: HttpRequest, org: str, code: str) -> None:
    """Lift a block or mute."""
    rule = access_block_rule(request.user, org, code)
    remove_block_rule(rule, actor=request.user)
