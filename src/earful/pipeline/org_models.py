"""Which triage model labels an organization's messages: its own, or the default.

An organization's own weights are the default model corrected by its team's label fixes
(trained by `inbox.retraining.retrain_organization`). They are stored in the database, and
each process keeps a local copy under `EARFUL_HOME/models/`, named by their digest, so a
worker on any machine uses the current weights without a shared disk.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

from django.conf import settings

from earful.org.models import Organization, TriageWeights
from earful.triage import Triager, load_triager, triager_from_weights


class SavableWeights(Protocol):
    """Weights that write themselves to a file (fast heads or a best adjustment)."""

    def save(self, path: Path) -> None:
        """Write the weights to `path` (an .npz file)."""


def _models_dir() -> Path:
    directory = Path(settings.EARFUL_HOME) / "models"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _local_copy(organization: Organization, digest: str) -> Path:
    return _models_dir() / f"org-{organization.pk}-{digest[:16]}.npz"


def save_weights(organization: Organization, weights: SavableWeights) -> Path:
    """Store the organization's new weights in the database; returns this machine's copy."""
    staging = _models_dir() / f"org-{organization.pk}-{os.getpid()}-new.npz"
    weights.save(staging)
    data = staging.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    TriageWeights.objects.update_or_create(
        organization=organization, defaults={"data": data, "digest": digest}
    )
    path = _local_copy(organization, digest)
    staging.replace(path)
    return path


def triager_for(organization: Organization) -> Triager:
    """The organization's own model when it has one, else the installation's default."""
    digest = (
        TriageWeights.objects.filter(organization_id=organization.pk)
        .values_list("digest", flat=True)
        .first()
    )
    if digest is None:
        return load_triager(settings.EARFUL_TRIAGE_MODEL or None)
    path = _local_copy(organization, digest)
    if not path.is_file():
        data = TriageWeights.objects.values_list("data", flat=True).get(
            organization_id=organization.pk
        )
        # Write then rename: another process of this machine may be reading the same name.
        staging = path.with_suffix(f".{os.getpid()}.tmp")
        staging.write_bytes(bytes(data))
        staging.replace(path)
    return triager_from_weights(path)
