"""The insights REST API: thin routes over the insights services."""

from __future__ import annotations

from ninja import Router
from ninja.security import django_auth

router = Router(tags=["insights"], auth=django_auth)
