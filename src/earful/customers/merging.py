"""Merging two customers into one person, and undoing it, without losing a message or event."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from earful.conversations.models import Conversation
from earful.customers.models import Customer, CustomerMerge, Identity, LinkKind
from earful.errors import DomainError
from earful.org.events import record_event


class MergeError(DomainError):
    """A merge or unmerge that cannot be done, with the reason."""


def live_customer(customer: Customer) -> Customer:
    """Follow merged_into to the customer that now stands for this one."""
    seen = {customer.pk}
    while customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
        if customer.pk in seen:
            raise MergeError("customer merges form a loop")
        seen.add(customer.pk)
    return customer


@transaction.atomic
def live_customer_ids(customer_ids: Iterable[int]) -> dict[int, int]:
    """For each customer id, the id of the customer that now stands for it (one query a hop)."""
    live = {pk: pk for pk in customer_ids}
    pending = set(live)
    while pending:
        hops = dict(
            Customer.objects.filter(pk__in=pending, merged_into__isnull=False).values_list(
                "pk", "merged_into_id"
            )
        )
        for pk, target in live.items():
            if target in hops:
                live[pk] = hops[target]
        pending = set(hops.values())
    return live


def merge_customers(
    source: Customer,
    target: Customer,
    *,
    rule: LinkKind,
    reason: str = "",
    by: User | AnonymousUser | None = None,
) -> CustomerMerge:
    """Fold source into target: its identities and conversations move; it is kept, marked merged."""
    source, target = live_customer(source), live_customer(target)
    if source.organization_id != target.organization_id:
        raise MergeError("customers of different organizations cannot be merged")
    if source.pk == target.pk:
        raise MergeError("a customer cannot be merged into itself")
    identities = list(Identity.objects.filter(customer=source).values_list("pk", flat=True))
    conversations = list(Conversation.objects.filter(customer=source).values_list("pk", flat=True))
    Identity.objects.filter(pk__in=identities).update(customer=target)
    Conversation.objects.filter(pk__in=conversations).update(customer=target)
    Customer.objects.filter(pk=source.pk).update(merged_into=target)
    merge = CustomerMerge.objects.create(
        organization_id=source.organization_id,
        source=source,
        target=target,
        rule=rule,
        reason=reason,
        by=by if isinstance(by, User) else None,
        moved_identities=identities,
        moved_conversations=conversations,
    )
    record_event(
        source.organization,
        "customer.merged",
        actor=by,
        target=merge,
        before={"customer": str(source.code), "identities": identities},
        after={"customer": str(target.code), "rule": str(rule), "reason": reason},
    )
    return merge


@transaction.atomic
def unmerge_customers(merge: CustomerMerge, *, by: User | AnonymousUser | None = None) -> None:
    """Undo a merge: what moved goes back to the source customer, which stands on its own again."""
    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise MergeError("this merge was already undone")
    Identity.objects.filter(pk__in=merge.moved_identities).update(customer=merge.source)
    Conversation.objects.filter(pk__in=merge.moved_conversations).update(customer=merge.source)
    Customer.objects.filter(pk=merge.source_id).update(merged_into=None)
    merge.undone_at = timezone.now()
    merge.save(update_fields=["undone_at"])
    record_event(
        merge.source.organization,
        "customer.unmerged",
        actor=by,
        target=merge,
        before={"customer": str(merge.target.code)},
        after={"customer": str(merge.source.code), "identities": merge.moved_identities},
    )
