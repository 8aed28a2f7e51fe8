"""Identity linking: certain evidence joins customers at once, probable evidence is suggested.

Certain (merged automatically):
- verified_email: two identities with the same address the platform verified (an email
  channel's sender address counts);
- profile: an account lists another's profile URL or full handle as its own;
- customer_confirmed: the customer answers a "link your accounts" request from the other account.

Probable (a LinkSuggestion an agent confirms or rejects; never merged automatically):
- same_name: the same full, uncommon display name on two customers, scored by how alike
  they write;
- same_phone / same_email_in_text: the same phone number or address written in messages.
"""

from __future__ import annotations

import math
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import F, Q, Window
from django.db.models.functions import Lower, RowNumber
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
from earful.org.events import record_event, record_events
from earful.org.models import Organization

PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{7,18}\d(?!\w)")
EMAIL_IN_TEXT = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
LINK_TOKEN = re.compile(r"\blink-([a-z0-9]{12})\b", re.IGNORECASE)
SAME_NAME_MIN_CHARS = 6
# A name held by more live customers than this is too common to say two are one person
# (and comparing every holder with every other would grow with the database).
SAME_NAME_MAX_HOLDERS = 5
# Writing style is read from a customer's most recent messages.
STYLE_MESSAGES = 20


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
    identities = list(identities)
    matches = _certain_matches(organization, identities)
    merges: list[CustomerMerge] = []
    for identity in identities:
        found = matches.get(identity.pk)
        if not found:
            continue
        identity.refresh_from_db(fields=["customer"])
        for other, rule, reason in found:
            # An earlier merge in this loop may have moved either identity already.
            other.refresh_from_db(fields=["customer"])
            if other.customer_id == identity.customer_id:
                continue
            merges.append(_merge_pair(identity, other, rule, reason))
            identity.refresh_from_db(fields=["customer"])
    return merges


def _certain_matches(
    organization: Organization, identities: Sequence[Identity]
) -> dict[int, list[tuple[Identity, LinkKind, str]]]:
    """Each identity's certain matches among all stored ones, in three queries for the batch."""
    matches: dict[int, list[tuple[Identity, LinkKind, str]]] = defaultdict(list)
    with_email: dict[str, list[Identity]] = defaultdict(list)
    for identity in identities:
        if email := email_of(identity):
            with_email[email].append(identity)
    if with_email:
        emails = list(with_email)
        same = Identity.objects.filter(organization=organization).filter(
            Q(verified_email__in=emails) | Q(platform="email", external_id__in=emails)
        )
        for other in same:
            addresses = {other.verified_email}
            if other.platform == "email":
                addresses.add(other.external_id)
            for email in addresses & with_email.keys():
                for identity in with_email[email]:
                    if identity.pk != other.pk:
                        matches[identity.pk].append(
                            (other, LinkKind.VERIFIED_EMAIL, f"both verified {email}")
                        )
    owners: dict[str, list[Identity]] = defaultdict(list)
    claimers: dict[str, list[Identity]] = defaultdict(list)
    clues: set[tuple[Identity, str, str]] = set()
    for identity in identities:
        owns = own_keys(identity)
        claims = {profile_key(link) for link in identity.profile_links} - {""} - owns
        for key in owns:
            owners[key].append(identity)
            clues.add((identity, ClueKind.OWNS.value, key))
        for key in claims:
            claimers[key].append(identity)
            clues.add((identity, ClueKind.CLAIMS.value, key))
    _store_clues(organization, clues)
    stored = Clue.objects.filter(organization=organization).select_related("identity")
    # What the batch claims, others own; what the batch owns, others claim.
    for kind, wanted in ((ClueKind.OWNS, claimers), (ClueKind.CLAIMS, owners)):
        if not wanted:
            continue
        for clue in stored.filter(kind=kind, value__in=list(wanted)):
            for identity in wanted[clue.value]:
                if clue.identity_id != identity.pk:
                    lister = identity if kind == ClueKind.OWNS else clue.identity
                    reason = f"{lister} lists {clue.value}"
                    matches[identity.pk].append((clue.identity, LinkKind.PROFILE, reason))
    return matches


def _merge_pair(a: Identity, b: Identity, rule: LinkKind, reason: str) -> CustomerMerge:
    # The customer known longer keeps its place; the newer one folds into it.
    older, newer = sorted([a.customer, b.customer], key=lambda c: (c.created_at, c.pk))
    return merge_customers(newer, older, rule=rule, reason=reason)


def _store_clues(organization: Organization, clues: Iterable[tuple[Identity, str, str]]) -> None:
    Clue.objects.bulk_create(
        (
            Clue(organization=organization, identity=identity, kind=kind, value=value[:300])
            for identity, kind, value in clues
        ),
        ignore_conflicts=True,
    )


def record_written_clues(
    organization: Organization, messages: Sequence[tuple[Identity, str]]
) -> None:
    """Remember the phone numbers and addresses customers wrote, for probable links."""
    _store_clues(
        organization,
        {
            (identity, kind, value)
            for identity, text in messages
            for kind, value in phones_and_emails(text)
        },
    )


def suggest_links(organization: Organization, customer_ids: Iterable[int]) -> list[LinkSuggestion]:
    """Offer probable same-person pairs for these customers to agents (never merged here).

    Set-based: a fixed handful of queries whatever the number of customers, and writing
    styles are compared only for pairs not suggested before.
    """
    ids = set(customer_ids)
    customers = list(
        Customer.objects.filter(organization=organization, pk__in=ids, merged_into__isnull=True)
        .annotate(name=Lower("display_name"))
        .values_list("pk", "display_name", "name")
    )
    if not customers:
        return []
    # (first id, second id) -> (rule, evidence, score or None while the score waits on style)
    found: dict[tuple[int, int], tuple[str, str, float | None]] = {}
    for pk, other, rule, evidence, score in [
        *_same_names(organization, customers),
        *_same_written(organization, [pk for pk, _, _ in customers]),
    ]:
        found.setdefault((min(pk, other), max(pk, other)), (rule, evidence, score))
    if not found:
        return []
    involved = {pk for pair in found for pk in pair}
    known = set(
        LinkSuggestion.objects.filter(first_id__in=involved, second_id__in=involved).values_list(
            "first_id", "second_id"
        )
    )
    fresh = {pair: value for pair, value in found.items() if pair not in known}
    styles = _writing_styles(
        {pk for pair, (_, _, score) in fresh.items() if score is None for pk in pair}
    )
    suggestions = [
        LinkSuggestion(
            organization=organization,
            first_id=first,
            second_id=second,
            rule=rule,
            evidence=evidence,
            score=round(
                0.5 + 0.5 * writing_similarity(styles[first], styles[second])
                if score is None
                else score,
                3,
            ),
        )
        for (first, second), (rule, evidence, score) in sorted(fresh.items())
    ]
    LinkSuggestion.objects.bulk_create(suggestions)
    # One insert for the audit events too: a batch may suggest hundreds of pairs.
    record_events(
        organization,
        "customer.link_suggested",
        ((s, {"rule": s.rule, "score": s.score}) for s in suggestions),
    )
    return suggestions


def _same_names(
    organization: Organization, customers: list[tuple[int, str, str]]
) -> list[tuple[int, int, str, str, float | None]]:
    """Live customers sharing a full, uncommon display name with one of these."""
    # Keyed by the database's own lower case, which is what the lookup below compares.
    names: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for pk, display_name, key in customers:
        name = " ".join(display_name.lower().split())
        if len(name) >= SAME_NAME_MIN_CHARS and " " in name:
            names[key].append((pk, display_name))
    if not names:
        return []
    holders: dict[str, list[int]] = defaultdict(list)
    for pk, name in (
        Customer.objects.filter(organization=organization, merged_into__isnull=True)
        .annotate(
            name=Lower("display_name"),
            rank=Window(RowNumber(), partition_by=Lower("display_name"), order_by=F("pk").asc()),
        )
        .filter(name__in=list(names), rank__lte=SAME_NAME_MAX_HOLDERS + 1)
        .values_list("pk", "name")
    ):
        holders[name].append(pk)
    found: list[tuple[int, int, str, str, float | None]] = []
    for name, others in holders.items():
        if len(others) > SAME_NAME_MAX_HOLDERS:
            continue
        for pk, display_name in names[name]:
            for other in others:
                if other != pk:
                    found.append((pk, other, "same_name", f"both named {display_name!r}", None))
    return found


def _same_written(
    organization: Organization, customer_ids: Iterable[int]
) -> list[tuple[int, int, str, str, float | None]]:
    """Live customers who wrote a phone number or address one of these customers wrote."""
    written: dict[tuple[str, str], set[int]] = defaultdict(set)
    for kind, value, customer_id in Clue.objects.filter(
        identity__customer_id__in=list(customer_ids), kind__in=[ClueKind.PHONE, ClueKind.EMAIL]
    ).values_list("kind", "value", "identity__customer_id"):
        written[(kind, value)].add(customer_id)
    if not written:
        return []
    same = Clue.objects.filter(
        organization=organization,
        kind__in={kind for kind, _ in written},
        value__in={value for _, value in written},
        identity__customer__merged_into__isnull=True,
    ).values_list("kind", "value", "identity__customer_id")
    found: list[tuple[int, int, str, str, float | None]] = []
    for kind, value, other in same:
        rule = "same_phone" if kind == ClueKind.PHONE else "same_email_in_text"
        for pk in sorted(written.get((kind, value), set()) - {other}):
            found.append((pk, other, rule, f"both wrote the {kind} ending {value[-4:]}", 0.8))
    return found


def writing_similarity(a: Counter[str], b: Counter[str]) -> float:
    """Cosine similarity of two writing styles (counts of character 3-grams)."""
    if not a or not b:
        return 0.0
    dot = sum(count * b[gram] for gram, count in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm


def _writing_styles(customer_ids: set[int]) -> dict[int, Counter[str]]:
    """Each customer's character 3-grams over their recent messages, in one query."""
    from earful.conversations.models import Direction, Message

    styles: dict[int, Counter[str]] = {pk: Counter() for pk in customer_ids}
    if not customer_ids:
        return styles
    recent = (
        Message.objects.filter(identity__customer_id__in=customer_ids, direction=Direction.IN)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("identity__customer_id"),
                order_by=[F("created_at").desc(), F("pk").desc()],
            )
        )
        .filter(rank__lte=STYLE_MESSAGES)
        .values_list("identity__customer_id", "text")
    )
    for customer_id, text in recent:
        lowered = " ".join(text.lower().split())
        styles[customer_id].update(lowered[i : i + 3] for i in range(len(lowered) - 2))
    return styles


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
    tokens = {token.lower() for _, text in messages for token in LINK_TOKEN.findall(text)}
    if not tokens:
        return []
    pending = {
        request.token: request
        for request in LinkRequest.objects.filter(
            organization=organization, token__in=tokens, answered_at__isnull=True
        )
    }
    merges: list[CustomerMerge] = []
    for identity, text in messages:
        for token in LINK_TOKEN.findall(text):
            request = pending.pop(token.lower(), None)
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
