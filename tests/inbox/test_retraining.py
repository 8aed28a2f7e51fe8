"""An organization's team corrects labels; its retrained model labels its new messages."""

from __future__ import annotations

from typing import Any

import pytest

from earful.errors import DomainError
from earful.inbox.canned import correct_label
from earful.inbox.retraining import retrain_organization
from earful.org.models import Event, TriageWeights
from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record

# In this business "sick" is praise; the public data taught the model otherwise.
SLANG = "this new mixtape drop is sick, totally sick"


def test_corrections_change_what_the_organization_s_model_says(
    channel: Any, owner: Any, settings: Any, tmp_path: Any
) -> None:
    settings.EARFUL_HOME = tmp_path
    ingest_batch(channel, numbered([record(str(n), f"{SLANG} #{n}") for n in range(12)]))
    first = channel.organization.message_set.get(external_id="0")
    before = first.sentiment
    target = "positive" if before != "positive" else "negative"
    for message in channel.organization.message_set.all():
        correct_label(message, "sentiment", target, by=owner)

    result = retrain_organization(channel.organization, by=owner)
    ingest_batch(channel, numbered([record("new", f"{SLANG} again")]))

    assert result.path.is_file()
    assert TriageWeights.objects.filter(organization=channel.organization).exists()
    assert result.corrections == 12
    assert channel.organization.message_set.get(external_id="new").sentiment == target
    assert Event.objects.filter(verb="triage.retrained", actor=owner).exists()


def test_another_organization_keeps_the_default_model(
    channel: Any, other_org: Any, owner: Any, settings: Any, tmp_path: Any
) -> None:
    from earful.channels.services import get_or_create_channel

    settings.EARFUL_HOME = tmp_path
    rival = get_or_create_channel(other_org, name="X", kind="x")
    ingest_batch(rival, numbered([record("r", f"{SLANG} too")]))
    default = other_org.message_set.get().sentiment
    ingest_batch(channel, numbered([record(str(n), f"{SLANG} #{n}") for n in range(12)]))
    target = "positive" if default != "positive" else "negative"
    for message in channel.organization.message_set.all():
        correct_label(message, "sentiment", target, by=owner)
    retrain_organization(channel.organization, by=owner)

    ingest_batch(rival, numbered([record("r2", f"{SLANG} again")]))

    assert other_org.message_set.get(external_id="r2").sentiment == default


def test_nothing_to_learn_is_a_clear_error(org: Any) -> None:
    with pytest.raises(DomainError, match="no label corrections"):
        retrain_organization(org)


def test_managers_retrain_over_the_api(
    channel: Any, owner: Any, client: Any, settings: Any, tmp_path: Any
) -> None:
    settings.EARFUL_HOME = tmp_path
    ingest_batch(channel, numbered([record("1", SLANG)]))
    correct_label(channel.organization.message_set.get(), "sentiment", "positive", by=owner)
    client.force_login(owner)

    response = client.post("/api/v1/orgs/acme/triage/retrain")

    assert response.status_code == 200
    assert response.json()["corrections"] == 1


def test_a_worker_on_another_machine_uses_the_organization_s_model(
    channel: Any, owner: Any, settings: Any, tmp_path: Any
) -> None:
    settings.EARFUL_HOME = tmp_path / "web"
    ingest_batch(channel, numbered([record(str(n), f"{SLANG} #{n}") for n in range(12)]))
    before = channel.organization.message_set.get(external_id="0").sentiment
    target = "positive" if before != "positive" else "negative"
    for message in channel.organization.message_set.all():
        correct_label(message, "sentiment", target, by=owner)
    retrain_organization(channel.organization, by=owner)

    # A worker machine: its own empty EARFUL_HOME, the same database.
    settings.EARFUL_HOME = tmp_path / "worker"
    ingest_batch(channel, numbered([record("new", f"{SLANG} again")]))

    assert channel.organization.message_set.get(external_id="new").sentiment == target
