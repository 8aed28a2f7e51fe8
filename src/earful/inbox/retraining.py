"""Retraining an organization's triage model on the label corrections its team made."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import AnonymousUser, User

from earful.errors import DomainError
from earful.inbox.models import LabelCorrection
from earful.org.events import record_event
from earful.org.models import Organization
from earful.pipeline.org_models import save_weights
from earful.triage import load_triager, train_with_corrections


@dataclass(frozen=True)
class Retrained:
    """What a retraining used, and this machine's copy of the weights."""

    path: Path
    base: str
    corrections: int
    skipped: int


def retrain_organization(
    organization: Organization, *, by: User | AnonymousUser | None = None
) -> Retrained:
    """Fold all the organization's label corrections into the default model and save it.

    From then on ingest labels the organization's messages with these weights.
    """
    rows = list(
        LabelCorrection.objects.filter(organization=organization)
        .order_by("at", "pk")
        .values_list("message__text", "field", "new")
    )
    if not rows:
        raise DomainError("this organization has no label corrections to learn from")
    # Always the default model plus every correction, so none is counted twice.
    base = load_triager(None).name
    weights = train_with_corrections(base, rows)
    path = save_weights(organization, weights)
    result = Retrained(
        path, base, int(weights.meta["corrections"]), int(weights.meta["corrections_skipped"])
    )
    record_event(
        organization,
        "triage.retrained",
        actor=by,
        target=organization,
        after={"base": base, "corrections": result.corrections, "skipped": result.skipped},
    )
    return result
