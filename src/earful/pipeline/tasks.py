"""The pipeline's tasks on Celery: a batch of stored raw messages in, processed messages out.

Tasks are acknowledged only after they finish, so a worker killed mid-batch leaves its
batch to another worker; processing skips what is already done, so a redelivered batch
changes nothing.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from earful.pipeline.ingest import process_raws
from earful.triage import load_triager

app = Celery("earful")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.task(
    name="earful.pipeline.process_raws",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=None,
)
def process_raws_task(raw_ids: list[int]) -> int:
    """Process a batch of raw messages by id (those already processed are skipped)."""
    close_old_connections()
    try:
        return process_raws(raw_ids)
    finally:
        close_old_connections()


@worker_process_init.connect
def load_models(**_: Any) -> None:
    """Load the default triage model as each worker process starts, not on its first task."""
    load_triager(settings.EARFUL_TRIAGE_MODEL or None)
