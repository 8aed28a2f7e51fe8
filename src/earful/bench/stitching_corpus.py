"""A generated cross-channel corpus with known truth, for measuring stitching and linking.

People have identities on several networks; some identities carry certain evidence of
belonging together (a verified email, a profile listing the other account), some only
probable evidence (the same name). Their matters move between channels: a reply quotes
the case reference we sent, a post links to the first one, or the customer restates the
subject. Decoys: different people with the same name, crowds writing about the same
outage at the same time, and one person raising an unrelated matter soon after.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from earful.demo.names import FIRST, LAST

TOPICS = (
    ("router", "dropping wifi every evening"),
    ("invoice", "charged twice this month"),
    ("esim", "activation stuck for hours"),
    ("delivery", "parcel never arrived"),
    ("app", "crashes when opening settings"),
    ("roaming", "no data abroad in Spain"),
    ("refund", "still waiting for the refund"),
    ("password", "reset email never comes"),
    ("signal", "no signal at home since Monday"),
    ("contract", "cancelled without asking"),
)
VOICES = (
    ("", "!!", "thanks"),
    ("honestly ", ".", "cheers"),
    ("ugh, ", "...", "regards"),
    ("hi team, ", ".", "many thanks"),
    ("", " :(", "pls help"),
    ("so ", "?!", "thx"),
)
PLATFORMS = ("x", "mastodon", "email", "forum", "reviews")
# Share of a person's further accounts with no certain evidence of being theirs.
NO_EVIDENCE = 0.05


@dataclass
class Persona:
    """One real person and their accounts."""

    person: int
    name: str
    voice: tuple[str, str, str]
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class CorpusMessage:
    """A message to ingest on a platform, with the truth about whom and which matter."""

    platform: str
    record: dict[str, Any]
    person: int | None
    matter: int
    # The text may hold "{ref}", to be filled with the case reference of the matter's
    # conversation, as a customer copies it from our reply.
    first_of_matter: str


def generate(
    *, people: int, seed: int, start: datetime
) -> tuple[list[Persona], list[CorpusMessage]]:
    """Generate personas and their messages over 30 days, sorted by time."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    personas = [_persona(rng, n) for n in range(people)]
    messages: list[CorpusMessage] = []
    matter = 0
    for persona in personas:
        when = start + timedelta(hours=rng.uniform(0, 24 * 20))
        topic = rng.choice(TOPICS)
        for index in range(rng.choice((1, 1, 2, 2, 3))):
            if index:
                # Most later matters come days later; some the same day, on another topic.
                soon = rng.random() < 0.15
                when += timedelta(hours=rng.uniform(2, 12) if soon else rng.uniform(96, 200))
                topic = rng.choice([t for t in TOPICS if t != topic])
            matter += 1
            messages.extend(_matter(rng, persona, matter, when, topic))
    messages.sort(key=lambda m: m.record["created_at"])
    return personas, messages


def _persona(rng: random.Random, person: int) -> Persona:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    persona = Persona(person, f"{first} {last}", rng.choice(VOICES))
    slug = f"{first.lower()}{last.lower()}{person}"
    platforms = [rng.choice(PLATFORMS[:2]), *rng.sample(PLATFORMS, rng.choice((0, 1, 1, 2, 3)))]
    email = f"{first.lower()}.{last.lower()}.{person}@mail.example"
    for platform in dict.fromkeys(platforms):
        persona.identities[platform] = _identity(platform, slug, persona.name, email)
    primary = next(iter(persona.identities.values()))
    for platform, identity in list(persona.identities.items())[1:]:
        evidence = rng.random()
        if evidence < NO_EVIDENCE:
            continue  # only the same name: a probable suggestion, never a certain link
        if platform == "email":
            primary["verified_email"] = email  # the network verified the same address
        elif evidence < 0.5 and "email" in persona.identities:
            identity["verified_email"] = email
        else:
            # A bio lists the person's other public profiles, not just one.
            identity["profile_links"] = [
                other["profile_url"]
                for other in persona.identities.values()
                if other is not identity and other.get("profile_url")
            ]
    return persona


def _identity(platform: str, slug: str, name: str, email: str) -> dict[str, Any]:
    if platform == "email":
        return {"external_id": email, "handle": email, "display_name": name}
    if platform == "mastodon":
        handle = f"{slug}@social.example"
        return {
            "external_id": f"m-{slug}",
            "handle": handle,
            "display_name": name,
            "profile_url": f"https://social.example/@{slug}",
        }
    if platform == "forum":
        return {
            "external_id": f"f-{slug}",
            "handle": slug,
            "display_name": name,
            "profile_url": f"https://forum.example/u/{slug}",
        }
    if platform == "reviews":
        return {"external_id": f"r-{slug}", "handle": "", "display_name": name}
    return {
        "external_id": f"x-{slug}",
        "handle": slug,
        "display_name": name,
        "profile_url": f"https://x.example/{slug}",
    }


def _matter(
    rng: random.Random, persona: Persona, matter: int, when: datetime, about: tuple[str, str]
) -> Iterator[CorpusMessage]:
    topic, problem = about
    opener, ending, signoff = persona.voice
    platforms = list(persona.identities)
    # People write from each of their accounts over time; prefer one not used yet.
    unused = [p for p in platforms if p not in persona.used] or platforms
    first_platform = rng.choice(unused)
    persona.used.add(first_platform)
    first_id = f"{first_platform}-{matter}-1"
    url = f"https://{first_platform}.example/posts/{matter}"
    text = f"{opener}my {topic} {problem}{ending} {signoff}"
    yield _message(persona, first_platform, first_id, text, when, matter, first_id, url=url)
    reply_at = when + timedelta(minutes=rng.uniform(5, 240))
    reply_id = f"{first_platform}-{matter}-2"
    yield CorpusMessage(
        first_platform,
        _record(
            reply_id,
            "Sorry about that, we are looking into it. Your case is {ref}.",
            reply_at,
            "out",
            {"external_id": "brand"},
            in_reply_to=first_id,
        ),
        None,
        matter,
        first_id,
    )
    others = [p for p in platforms if p != first_platform]
    if not others or rng.random() < 0.2:
        return
    move_to = rng.choice([p for p in others if p not in persona.used] or others)
    persona.used.add(move_to)
    later = reply_at + timedelta(minutes=rng.uniform(20, 600))
    how = rng.random()
    if how < 0.35:
        text = f"{opener}about case {{ref}}: still not sorted{ending} {signoff}"
    elif how < 0.6 and first_platform != "email":
        text = f"{opener}following up on {url} nothing changed{ending}"
    else:
        text = f"{opener}the {topic} {problem} again{ending} {signoff}"
    moved_id = f"{move_to}-{matter}-3"
    yield _message(persona, move_to, moved_id, text, later, matter, first_id)
    if rng.random() < 0.5:
        yield CorpusMessage(
            move_to,
            _record(
                f"{move_to}-{matter}-4",
                "Thanks, passing this to our team now.",
                later + timedelta(minutes=30),
                "out",
                {"external_id": "brand"},
                in_reply_to=moved_id,
            ),
            None,
            matter,
            first_id,
        )


def _message(
    persona: Persona,
    platform: str,
    external_id: str,
    text: str,
    when: datetime,
    matter: int,
    first_id: str,
    url: str = "",
) -> CorpusMessage:
    record = _record(external_id, text, when, "in", persona.identities[platform], url=url)
    return CorpusMessage(platform, record, persona.person, matter, first_id)


def _record(
    external_id: str,
    text: str,
    when: datetime,
    direction: str,
    author: dict[str, Any],
    *,
    in_reply_to: str = "",
    url: str = "",
) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "text": text,
        "created_at": when.isoformat(),
        "direction": direction,
        "author": author,
        "in_reply_to": in_reply_to,
        "url": url,
    }
