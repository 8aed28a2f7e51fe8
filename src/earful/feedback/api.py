"""The feedback REST API: thin routes over the feedback services."""

from __future__ import annotations

from ninja import Router
from ninja.security import django_auth

router = Router(tags=["feedback"], auth=django_auth)
