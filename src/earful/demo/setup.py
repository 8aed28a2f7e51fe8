"""Create (or top up) the demo organization with its staff, channels and generated traffic."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from earful.channels.services import get_or_create_channel
from earful.demo.board import seed_board
from earful.demo.generator import BRAND, CHANNELS, generate
from earful.demo.teamwork import seed_teamwork
from earful.org.models import Organization, Role
from earful.org.services import add_member, create_organization
from earful.pipeline.ingest import IngestReport, ingest_batch

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@earful.example"
DEMO_PASSWORD = "listen-first"  # noqa: S105 - the published demo sign-in
TEAM = (
    ("jo@earful.example", Role.AGENT),
    ("alex@earful.example", Role.AGENT),
    ("kai@earful.example", Role.MANAGER),
)


@dataclass(frozen=True)
class DemoInfo:
    """Where the demo lives and how to sign in."""

    organization: Organization
    email: str
    password: str
    report: IngestReport


def create_demo(*, seed: int = 7, threads: int = 1500) -> DemoInfo:
    """Create the demo organization if missing and ingest its generated traffic (idempotent)."""
    organization = Organization.objects.filter(slug=DEMO_SLUG).first()
    if organization is None:
        organization = create_organization(BRAND, DEMO_SLUG)
        add_member(organization, DEMO_EMAIL, role=Role.ADMIN, password=DEMO_PASSWORD)
        for email, role in TEAM:
            add_member(organization, email, role=role, password=DEMO_PASSWORD)
    channels = {
        name: get_or_create_channel(organization, name=name, kind=kind)
        for name, kind, _, _ in CHANNELS
    }
    by_channel: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for number, message in enumerate(generate(seed=seed, threads=threads, now=timezone.now()), 1):
        by_channel[message.channel].append((number, message.record))
    report = IngestReport()
    for name, items in by_channel.items():
        report.add(ingest_batch(channels[name], items))
    seed_board(organization, User.objects.get(username=DEMO_EMAIL), seed=seed)
    agents = list(User.objects.filter(username__in=[e for e, r in TEAM if r == Role.AGENT]))
    seed_teamwork(organization, agents, DEMO_PASSWORD, seed=seed)
    return DemoInfo(organization, DEMO_EMAIL, DEMO_PASSWORD, report)
