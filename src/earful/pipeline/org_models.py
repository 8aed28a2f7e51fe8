"""Which triage model labels an organization's messages: its own, or the default.

An organization's own weights are the default model corrected by its team's label fixes
(written by `inbox.retraining.retrain_organization` under `EARFUL_HOME/models/`).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from earful.org.models import Organization
from earful.triage import Triager, load_triager, triager_from_weights


def weights_path(organization: Organization) -> Path:
    """Where the organization's own weights live (they may not exist yet)."""
    return Path(settings.EARFUL_HOME) / "models" / f"org-{organization.pk}.npz"


def triager_for(organization: Organization) -> Triager:
    """The organization's own model when it has one, else the installation's default."""
    path = weights_path(organization)
    if path.is_file():
        return triager_from_weights(path)
    return load_triager(settings.EARFUL_TRIAGE_MODEL or None)
