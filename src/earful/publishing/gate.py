"""The listen-first gate: whether a post may go out now, and if not, what to answer first.

Three checks, each per organization in PublishSettings (docs/publishing.md):

- unanswered: a complaint or question on the post's channel has waited for us longer than
  `unanswered_minutes` (default 60);
- alerts: a volume, negativity or spreading alert was raised in the last `alert_hours`
  (default 6): the brand is in a spike or crisis and should not be posting past it;
- promotion: the post is promotional and, counted in, promotional posts would make up more
  than the promote-last limit of the brand's own posts over 30 days (the insights
  threshold, default 20 %), classified by the same rule as the insights monitor.

The checks only read; holding and publishing are the services' work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse

from earful.channels.models import Channel
from earful.conversations.models import Conversation, Direction, Intent, Status
from earful.insights.models import Alert, AlertKind
from earful.insights.promo import is_promotional, promotional_q
from earful.insights.social import PROMO_DAYS, insight_settings, own_posts
from earful.org.models import Organization
from earful.publishing.models import PublishSettings

# A customer still waits for us in these statuses.
WAITING_STATUSES = (Status.OPEN, Status.WAITING_ON_DEPARTMENT)
# Alerts that mean "the brand is in a spike or crisis"; an unanswered complaint (ageing) is
# already the unanswered check's business.
CRISIS_KINDS = (AlertKind.VOLUME, AlertKind.NEGATIVITY, AlertKind.SPREADING)
# Links shown per reason; the count says how many more there are.
MAX_LINKS = 10


@dataclass(frozen=True)
class Reason:
    """Why a post is held: the rule, the channel it concerns ("" for the brand), a sentence,
    and links (label, path) to what needs answering."""

    rule: str
    channel: str
    text: str
    links: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The reason as stored on the post."""
        data = asdict(self)
        data["links"] = [list(link) for link in self.links]
        return data


def gate_settings(organization: Organization) -> PublishSettings:
    """The organization's gate settings (the defaults, unsaved, until someone changes them)."""
    stored = PublishSettings.objects.filter(organization=organization).first()
    return stored or PublishSettings(organization=organization)


def unanswered(
    organization: Organization, channel: Channel, now: datetime, minutes: int
) -> list[Conversation]:
    """Waiting conversations with a complaint or question on the channel, oldest first."""
    asked = Q(messages__intent__in=[Intent.COMPLAINT, Intent.QUESTION])
    asked |= Q(messages__complaint=True) | Q(messages__question=True)
    return list(
        Conversation.objects.filter(
            asked,
            messages__channel=channel,
            messages__direction=Direction.IN,
            organization=organization,
            status__in=WAITING_STATUSES,
            waiting_since__lte=now - timedelta(minutes=minutes),
        )
        .distinct()
        .order_by("waiting_since", "number")
    )


def open_alerts(organization: Organization, now: datetime, hours: int) -> list[Alert]:
    """Spike and crisis alerts raised in the last `hours`, newest first."""
    return list(
        Alert.objects.filter(
            organization=organization,
            kind__in=CRISIS_KINDS,
            created_at__gt=now - timedelta(hours=hours),
            created_at__lte=now,
        ).order_by("-created_at")
    )


@dataclass(frozen=True)
class PromoShare:
    """Promotional posts over the brand's own posts in 30 days, with the post counted in."""

    posts: int
    promotional: int
    limit: float

    @property
    def share(self) -> float:
        """The promotional share, 0..1."""
        return self.promotional / self.posts if self.posts else 0.0


def promo_share(organization: Organization, texts: list[str], now: datetime) -> PromoShare:
    """The 30-day share if these texts (one per channel) went out now."""
    # own_posts' window ends just before `now`; a post that went out this instant counts too.
    counts = own_posts(organization, now + timedelta(microseconds=1)).aggregate(
        n=Count("id"), promotional=Count("id", filter=promotional_q())
    )
    added = sum(is_promotional(text) for text in texts)
    return PromoShare(
        counts["n"] + len(texts),
        counts["promotional"] + added,
        insight_settings(organization).promo_threshold,
    )


def check(
    organization: Organization, targets: list[tuple[Channel, str]], now: datetime
) -> list[Reason]:
    """Every reason the post (its channels and their texts) must wait; empty when it may go."""
    rules = gate_settings(organization)
    reasons: list[Reason] = []
    if rules.check_unanswered:
        for channel, _ in targets:
            waiting = unanswered(organization, channel, now, rules.unanswered_minutes)
            if waiting:
                reasons.append(_unanswered_reason(organization, channel, waiting, rules))
    if rules.check_alerts:
        alerts = open_alerts(organization, now, rules.alert_hours)
        if alerts:
            path = reverse("insights:alerts", args=[organization.slug])
            reasons.append(
                Reason(
                    "alert",
                    "",
                    f"{len(alerts)} spike or crisis alert(s) in the last {rules.alert_hours} h; "
                    f"latest: {alerts[0].summary}",
                    [(alert.summary[:80], path) for alert in alerts[:MAX_LINKS]],
                )
            )
    texts = [text for _, text in targets]
    if rules.check_promotion and any(is_promotional(text) for text in texts):
        share = promo_share(organization, texts, now)
        if share.share > share.limit:
            reasons.append(
                Reason(
                    "promotion",
                    "",
                    f"with this post {share.promotional} of {share.posts} posts in "
                    f"{PROMO_DAYS} days would be promotional ({share.share:.0%}), above the "
                    f"promote-last limit of {share.limit:.0%}: post something engaging first",
                    [("Scorecard", reverse("insights:scorecard", args=[organization.slug]))],
                )
            )
    return reasons


def _unanswered_reason(
    organization: Organization,
    channel: Channel,
    waiting: list[Conversation],
    rules: PublishSettings,
) -> Reason:
    links = [
        (f"#{c.number}", reverse("inbox:conversation", args=[organization.slug, c.number]))
        for c in waiting[:MAX_LINKS]
    ]
    return Reason(
        "unanswered",
        channel.name,
        f"{len(waiting)} complaint(s) or question(s) on {channel.name} waited more than "
        f"{rules.unanswered_minutes} min for an answer",
        links,
    )
