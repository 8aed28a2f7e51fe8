"""`earful bench stitching`: precision and recall of identity links and conversation joins."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db.models import F

from earful.bench.stitching_corpus import PLATFORMS, CorpusMessage, generate
from earful.channels.models import Channel
from earful.channels.services import get_or_create_channel
from earful.conversations.models import Conversation, Message
from earful.conversations.stitching import case_reference
from earful.customers.models import Identity, LinkSuggestion
from earful.org.models import Organization
from earful.org.services import create_organization
from earful.pipeline.ingest import ingest_batch


@dataclass(frozen=True)
class PairScore:
    """Pairwise precision and recall of a clustering against the truth."""

    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int


def pair_score(truth: Mapping[Any, Hashable], predicted: Mapping[Any, Hashable]) -> PairScore:
    """Score predicted clusters against true ones over all pairs of items."""

    def pairs(counts: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    keys = truth.keys() & predicted.keys()
    correct = pairs(Counter((truth[k], predicted[k]) for k in keys))
    predicted_pairs = pairs(Counter(predicted[k] for k in keys))
    true_pairs = pairs(Counter(truth[k] for k in keys))
    return PairScore(
        precision=correct / predicted_pairs if predicted_pairs else 1.0,
        recall=correct / true_pairs if true_pairs else 1.0,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct,
    )


def run(*, people: int, seed: int, twcs: Path | None) -> dict[str, Any]:
    """Generate the corpus, ingest it as channels would deliver it, and score the result."""
    organization = create_organization(f"Stitching bench {seed}", f"bench-stitching-{seed}")
    channels = {p: get_or_create_channel(organization, name=p, kind=p) for p in PLATFORMS}
    personas, corpus = generate(people=people, seed=seed, start=datetime(2026, 10, 1, tzinfo=UTC))
    started = time.perf_counter()
    _ingest_in_order(organization, channels, corpus)
    seconds = time.perf_counter() - started

    identity_truth = {
        (platform, identity["external_id"]): persona.person
        for persona in personas
        for platform, identity in persona.identities.items()
    }
    identity_predicted = {
        (i.platform, i.external_id): i.customer_id
        for i in Identity.objects.filter(organization=organization)
    }
    message_truth = {m.record["external_id"]: m.matter for m in corpus}
    message_predicted = _live_conversation_of_messages(organization)
    people_of_customer: dict[int, set[int]] = {}
    for key, customer in identity_predicted.items():
        people_of_customer.setdefault(customer, set()).add(identity_truth[key])
    person_of_customer = {c: next(iter(p)) for c, p in people_of_customer.items() if len(p) == 1}
    suggestions = list(LinkSuggestion.objects.filter(organization=organization))
    right = sum(
        1
        for s in suggestions
        if person_of_customer.get(s.first_id) is not None
        and person_of_customer.get(s.first_id) == person_of_customer.get(s.second_id)
    )
    result: dict[str, Any] = {
        "people": people,
        "seed": seed,
        "identities": len(identity_truth),
        "messages": len(corpus),
        "ingest_seconds": round(seconds, 1),
        "identity_links": asdict(pair_score(identity_truth, identity_predicted)),
        "conversation_joins": asdict(pair_score(message_truth, message_predicted)),
        "customers_mixing_people": sum(1 for p in people_of_customer.values() if len(p) > 1),
        "suggestions": len(suggestions),
        "suggestions_right": right,
        "join_rules": dict(
            Counter(
                Message.objects.filter(organization=organization).values_list(
                    "join_rule", flat=True
                )
            )
        ),
    }
    if twcs is not None:
        result["twcs"] = _twcs_threading(twcs)
    return result


def _ingest_in_order(
    organization: Organization, channels: dict[str, Channel], corpus: list[CorpusMessage]
) -> None:
    """Deliver messages in time order, a channel's run of consecutive messages per batch."""
    pending: list[CorpusMessage] = []

    def flush() -> None:
        if pending:
            channel = channels[pending[0].platform]
            ingest_batch(channel, [(n, _filled(organization, m)) for n, m in enumerate(pending, 1)])
            pending.clear()

    for message in corpus:
        needs_earlier = "{ref}" in message.record["text"] and any(
            p.record["external_id"] == message.first_of_matter for p in pending
        )
        if pending and (pending[0].platform != message.platform or needs_earlier):
            flush()
        pending.append(message)
    flush()


def _filled(organization: Organization, message: CorpusMessage) -> dict[str, Any]:
    record = dict(message.record)
    if "{ref}" in record["text"]:
        first = Message.objects.select_related("conversation").get(
            organization=organization, external_id=message.first_of_matter
        )
        assert first.conversation is not None
        record["text"] = record["text"].replace(
            "{ref}", case_reference(organization, first.conversation.number)
        )
    return record


def _live_conversation_of_messages(organization: Organization) -> dict[str, int]:
    merged_into: dict[int, int] = {
        pk: into
        for pk, into in Conversation.objects.filter(organization=organization).values_list(
            "pk", "merged_into"
        )
        if into is not None
    }

    def live(pk: int) -> int:
        while pk in merged_into:
            pk = merged_into[pk]
        return pk

    return {
        external_id: live(conversation_id)
        for external_id, conversation_id in Message.objects.filter(
            organization=organization, conversation__isnull=False
        ).values_list("external_id", "conversation_id")
    }


def _twcs_threading(path: Path) -> dict[str, Any]:
    from earful.channels.files import FileFormat
    from earful.cli.importing import run_import

    summary = run_import(
        path,
        FileFormat.TWCS,
        org_slug="bench-twcs",
        channel_name=None,
        channel_kind=None,
        batch_size=1000,
    )
    replies = Message.objects.filter(organization__slug="bench-twcs", parent__isnull=False)
    same = replies.filter(conversation=F("parent__conversation")).count()
    return {
        "messages": summary.report.stored,
        "replies_linked": replies.count(),
        "replies_in_parent_conversation": same,
        "conversations": Conversation.objects.filter(organization__slug="bench-twcs")
        .exclude(status="merged")
        .count(),
    }
