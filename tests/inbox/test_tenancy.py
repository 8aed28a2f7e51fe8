"""Nobody sees another organization's data: every tenant route answers an outsider with 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from earful.conversations.actions import move_message
from earful.conversations.models import Conversation, Message
from earful.customers.merging import merge_customers
from earful.customers.models import Customer, LinkKind, LinkSuggestion
from earful.inbox.canned import save_canned_reply
from earful.inbox.handoffs import hand_off
from earful.inbox.replies import hold_reply
from earful.inbox.tickets import add_destination
from earful.org.models import Department, Membership
from earful.pipeline.ingest import ingest_batch
from tests.feedback import tenancy_values as feedback_values
from tests.helpers import numbered, record
from tests.insights import tenancy_values as insights_values
from tests.publishing import tenancy_values as publishing_values
from tests.tenancy import fill, tenant_routes

ROUTES = tenant_routes()


@pytest.fixture
def values(channel: Any, owner: Any) -> dict[str, str]:
    """Real objects of the organization 'acme' for every tenant parameter."""
    ingest_batch(
        channel,
        numbered(
            [
                record(
                    "1", "router broken", author={"external_id": "a", "display_name": "Sam Reed"}
                ),
                record("2", "bill wrong", author={"external_id": "b", "display_name": "Sam Reed"}),
                record("3", "hello", author={"external_id": "c"}),
            ]
        ),
    )
    first, second = Conversation.objects.order_by("number")[:2]
    message = Message.objects.get(external_id="1")
    event = move_message(Message.objects.get(external_id="3"), first, by=owner)
    a, b, c = (Customer.objects.get(identities__external_id=x) for x in "abc")
    merge = merge_customers(c, a, rule=LinkKind.AGENT, by=owner)
    it = Department.objects.get(organization=first.organization, slug="it")
    handoff = hand_off(first, it, "look", by=owner, now=first.started_at)
    playbook = save_canned_reply(first.organization, "Escalate", "On it", by=owner, handoff_to=it)
    github = {"repository": "acme/app", "token": "t", "webhook_secret": "s" * 16}
    destination = add_destination(it, "github", github, by=owner)
    author = Membership.objects.get(organization=first.organization, user=owner)
    draft = hold_reply(first, "On it", by=author, now=first.started_at)
    extra = {
        **feedback_values.make_values(first.organization, owner),
        **insights_values.make_values(first.organization, owner),
        **publishing_values.make_values(first.organization, owner),
    }
    return extra | {
        "org": "acme",
        "number": str(first.number),
        "into": str(second.number),
        "message": str(message.code),
        "event": str(event.code),
        "customer": str(a.code),
        "target": str(b.code),
        "merge": str(merge.code),
        "suggestion": str(LinkSuggestion.objects.get().code),
        "decision": "reject",
        "code": str(channel.code),
        "handoff": str(handoff.code),
        "playbook": str(playbook.code),
        "department": it.slug,
        "destination": str(destination.code),
        "draft": str(draft.code),
    }


def test_the_walk_finds_the_tenant_routes() -> None:
    assert "/o/<slug:org>/messages/" in ROUTES
    assert "/api/v1/orgs/<org>/messages" in ROUTES
    assert "/api/v1/orgs/<org>/conversations/<number>/merge-into/<into>" in ROUTES
    assert "/o/<slug:org>/handoffs/<str:handoff>/fixed/" in ROUTES
    assert "/o/<slug:org>/destinations/<str:destination>/check/" in ROUTES
    assert "/o/<slug:org>/departments/<slug:department>/notifications/" in ROUTES
    assert "/o/<slug:org>/notifications/" in ROUTES
    assert len(ROUTES) >= 25


def _statuses(client: Client, path: str) -> dict[str, int]:
    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
    return {method: client.generic(method, path).status_code for method in methods}


@pytest.mark.parametrize("route", ROUTES)
def test_only_members_reach_tenant_objects(
    route: str, values: dict[str, str], outsider: Any, owner: Any, client: Client
) -> None:
    path = fill(route, values)

    stranger = _statuses(client, path)
    client.force_login(outsider)
    outside = _statuses(client, path)
    missing = _statuses(client, fill(route, {**values, "org": "no-such-org"}))
    client.force_login(owner)
    member = client.get(path).status_code

    # A stranger is asked to sign in (pages redirect, the API answers 401).
    assert set(stranger.values()) <= {302, 401, 405}, stranger
    assert {302, 401} & set(stranger.values())
    # An outsider learns nothing: the answer is the one for an organization that does not exist.
    assert outside == missing
    assert set(outside.values()) <= {404, 405, 422}, outside
    # 422 only where the body is checked before anything is looked up.
    assert 404 in outside.values() or 422 in outside.values()
    assert member in {200, 405}
