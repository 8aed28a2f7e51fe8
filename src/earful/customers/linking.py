"""Identity linking: certain evidence joins customers at once, probable evidence is suggested.

Certain (merged automatically):
- verified_email: two identities with the same address the platform verified (an email
  channel's sender address counts);
- profile: an account lists another's profile URL or full handle as its own;
- customer_confirmed: the customer answers a "link your accounts" request from the other account.

Probable (a LinkSuggestion an agent confirms or rejects; never merged automatically):
- same_name: the same full display name on two customers, scored by how alike they write;
- same_phone / same_email_in_text: the same phone number or address written in messages.
"""

from __future__ import annotations

import math
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from earful.customers.merging import merge_customers
from earful.customers.models import (
    Clue,
    ClueKind,
    Customer,
    CustomerMerge,
    Identity,
    LinkKind,
    LinkRequest,
    LinkSuggestion,
    SuggestionStatus,
)
from earful.errors import DomainError
from earful.org.events import record_event
from earful.org.models import Organization

PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{7,18}\d(?!\w)")
EMAIL_IN_TEXT = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
LINK_TOKEN = re.compile(r"\blink-([a-z0-9]{12})\b", re.IGNORECASE)
SAME_NAME_MIN_CHARS = 6


def profile_key(value: str) -> str:
    """A comparable form of a profile URL or a full handle (user@host, name.domain)."""
    value = value.strip().lower().removeprefix("@")
    value = re.sub(r"^https?://(www\.)?", "", value).split("?", 1)[0].split("#", 1)[0]
    return value.rstrip("/")


def _is_full_handle(handle: str) -> bool:
    # "sam" means nothing across networks; "sam@mastodon.social" or "sam.bsky.social" does.
    key = profile_key(handle)
    return "@" in key or "." in key


def email_of(identity: Identity) -> str:
    """The identity's verified address: the platform's, or an email channel's sender."""
    if identity.verified_email:
        return identity.verified_email.lower()
    if identity.platform == "email" and "@" in identity.external_id:
        return identity.external_id.lower()
    return ""


def own_keys(identity: Identity) -> set[str]:
    """The profile keys under which others may list this identity."""
    keys = {profile_key(identity.profile_url)} if identity.profile_url else set()
    if identity.handle and _is_full_handle(identity.handle):
        keys.add(profile_key(identity.handle))
    return keys - {""}


def phones_and_emails(text: str) -> set[tuple[str, str]]:
    """Phone numbers (digits only, 9-15 long) and email addresses written in a text."""
    found = {(ClueKind.EMAIL.value, m.lower()) for m in EMAIL_IN_TEXT.findall(text)}
    for match in PHONE.findall(text):
        digits = re.sub(r"\D", "", match)
        if 9 <= len(digits) <= 15:
            found.add((ClueKind.PHONE.value, digits[-10:]))
    return found


def link_certain(organization: Organization, identities: Iterable[Identity]) -> list[CustomerMerge]:
    """Merge the customers of identities that certain evidence says are one person."""
    merges: list[CustomerMerge] = []
    for identity in identities:
        identity.refresh_from_db(fields=["customer"])
        for other, rule, reason in _certain_matches(organization, identity):
            # An earlier merge in this loop may have moved either identity already.
            other.refresh_from_db(fields=["customer"])
            if other.customer_id == identity.customer_id:
                continue
            merges.append(_merge_pair(identity, other, rule, reason))
            identity.refresh_from_db(fields=["customer"])
    return merges


def _certain_matches(
    organization: Organization, identity: Identity
) -> list[tuple[Identity, LinkKind, str]]:
    matches: list[tuple[Identity, LinkKind, str]] = []
    email = email_of(identity)
    if email:
        same = (
            Identity.objects.filter(organization=organization)
            .filter(Q(verified_email=email) | Q(platform="email", external_id=email))
            .exclude(pk=identity.pk)
        )
        matches.extend((o, LinkKind.VERIFIED_EMAIL, f"both verified {email}") for o in same)
    owns = own_keys(identity)
    claims = {profile_key(link) for link in identity.profile_links} - {""} - owns
    _store_clues(
        organization,
        identity,
        {(ClueKind.OWNS.value, k) for k in owns} | {(ClueKind.CLAIMS.value, k) for k in claims},
    )
    clues = Clue.objects.filter(organization=organization).exclude(identity=identity)
    for clue in clues.filter(kind=ClueKind.OWNS, value__in=claims).select_related("identity"):
        matches.append((clue.identity, LinkKind.PROFILE, f"{identity} lists {clue.value}"))
    for clue in clues.filter(kind=ClueKind.CLAIMS, value__in=owns).select_related("identity"):
        matches.append((clue.identity, LinkKind.PROFILE, f"{clue.identity} lists {clue.value}"))
    return matches


def _merge_pair(a: Identity, b: Identity, rule: LinkKind, reason: str) -> CustomerMerge:
    # The customer known longer keeps its place; the newer one folds into it.
    older, newer = sorted([a.customer, b.customer], key=lambda c: (c.created_at, c.pk))
    return merge_customers(newer, older, rule=rule, reason=reason)


def _store_clues(
    organization: Organization, identity: Identity, clues: set[tuple[str, str]]
) -> None:
    Clue.objects.bulk_create(
        (
            Clue(organization=organization, identity=identity, kind=kind, value=value[:300])
            for kind, value in clues
        ),
        ignore_conflicts=True,
    )


def record_written_clues(organization: Organization, identity: Identity, text: str) -> None:
    """Remember the phone numbers and addresses a customer wrote, for probable links."""
    clues = phones_and_emails(text)
    if clues:
        _store_clues(organization, identity, clues)


def suggest_links(organization: Organization, customer_ids: Iterable[int]) -> list[LinkSuggestion]:
    """Offer probable same-person pairs for these customers to agents (never merged here)."""
    suggestions: list[LinkSuggestion] = []
    customers = Customer.objects.filter(
        organization=organization, pk__in=set(customer_ids), merged_into__isnull=True
    )
    for customer in customers:
        for other, rule, evidence, score in _probable_matches(organization, customer):
            suggestion = _suggest(organization, customer, other, rule, evidence, score)
            if suggestion is not None:
                suggestions.append(suggestion)
    return suggestions


def _probable_matches(
    organization: Organization, customer: Customer
) -> list[tuple[Customer, str, str, float]]:
    found: list[tuple[Customer, str, str, float]] = []
    live = Customer.objects.filter(organization=organization, merged_into__isnull=True).exclude(
        pk=customer.pk
    )
    name = " ".join(customer.display_name.lower().split())
    if len(name) >= SAME_NAME_MIN_CHARS and " " in name:
        for other in live.filter(display_name__iexact=customer.display_name):
            score = 0.5 + 0.5 * writing_similarity(customer, other)
            found.append((other, "same_name", f"both named {customer.display_name!r}", score))
    written = Clue.objects.filter(
        identity__customer=customer, kind__in=[ClueKind.PHONE, ClueKind.EMAIL]
    ).values_list("kind", "value")
    for kind, value in written:
        same = Clue.objects.filter(organization=organization, kind=kind, value=value).exclude(
            identity__customer=customer
        )
        for clue in same.select_related("identity__customer"):
            other = clue.identity.customer
            if other.merged_into_id is None:
                rule = "same_phone" if kind == ClueKind.PHONE else "same_email_in_text"
                found.append((other, rule, f"both wrote the {kind} ending {value[-4:]}", 0.8))
    return found


def _suggest(
    organization: Organization,
    a: Customer,
    b: Customer,
    rule: str,
    evidence: str,
    score: float,
) -> LinkSuggestion | None:
    first, second = sorted([a, b], key=lambda c: c.pk)
    suggestion, created = LinkSuggestion.objects.get_or_create(
        first=first,
        second=second,
        defaults={
            "organization": organization,
            "rule": rule,
            "evidence": evidence,
            "score": round(score, 3),
        },
    )
    if created:
        record_event(
            organization,
            "customer.link_suggested",
            target=suggestion,
            after={"rule": rule, "score": suggestion.score},
        )
        return suggestion
    return None


def writing_similarity(a: Customer, b: Customer) -> float:
    """Cosine similarity of two customers' character 3-grams over their recent messages."""
    return _cosine(_trigrams(a), _trigrams(b))


def _trigrams(customer: Customer) -> Counter[str]:
    from earful.conversations.models import Direction, Message

    texts = (
        Message.objects.filter(identity__customer=customer, direction=Direction.IN)
        .order_by("-created_at")
        .values_list("text", flat=True)[:20]
    )
    grams: Counter[str] = Counter()
    for text in texts:
        lowered = " ".join(text.lower().split())
        grams.update(lowered[i : i + 3] for i in range(len(lowered) - 2))
    return grams


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(count * b[gram] for gram, count in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm


@transaction.atomic
def decide_suggestion(
    suggestion: LinkSuggestion, *, confirm: bool, by: User | AnonymousUser | None
) -> CustomerMerge | None:
    """An agent's answer to a suggestion: confirm merges the two, reject keeps them apart."""
    suggestion = LinkSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != SuggestionStatus.PENDING:
        raise DomainError("this suggestion was already decided")
    suggestion.status = SuggestionStatus.CONFIRMED if confirm else SuggestionStatus.REJECTED
    suggestion.decided_by = by if isinstance(by, User) else None
    suggestion.decided_at = timezone.now()
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])
    record_event(
        suggestion.organization, f"customer.link_{suggestion.status}", actor=by, target=suggestion
    )
    if not confirm:
        return None
    older, newer = sorted([suggestion.first, suggestion.second], key=lambda c: c.pk)
    return merge_customers(newer, older, rule=LinkKind.AGENT, reason=suggestion.evidence, by=by)


def create_link_request(customer: Customer) -> LinkRequest:
    """A request the customer answers from another account by writing its token (link-xxxx)."""
    request = LinkRequest.objects.create(
        organization_id=customer.organization_id,
        customer=customer,
        token=secrets.token_hex(6),
    )
    record_event(customer.organization, "customer.link_requested", target=customer)
    return request


def answer_link_requests(
    organization: Organization, messages: Sequence[tuple[Identity, str]]
) -> list[CustomerMerge]:
    """Merge customers who wrote a pending link token from another identity."""
    merges: list[CustomerMerge] = []
    for identity, text in messages:
        for token in LINK_TOKEN.findall(text):
            request = LinkRequest.objects.filter(
                organization=organization, token=token.lower(), answered_at__isnull=True
            ).first()
            if request is None:
                continue
            request.answered_at = timezone.now()
            request.answered_by = identity
            request.save(update_fields=["answered_at", "answered_by"])
            identity.refresh_from_db(fields=["customer"])
            if identity.customer_id != request.customer_id:
                merges.append(
                    merge_customers(
                        identity.customer,
                        request.customer,
                        rule=LinkKind.CUSTOMER_CONFIRMED,
                        reason=f"answered link request from {identity}",
                    )
                )
    return merges
