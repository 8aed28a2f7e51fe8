"""A deterministic generator of realistic customer traffic for the demo (no outside data needed)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from earful.demo.names import FIRST, LAST

BRAND = "Brightwave Mobile"
BRAND_HANDLE = "brightwave"

# (channel name, kind, share of traffic, message kind of a customer's first message)
CHANNELS: tuple[tuple[str, str, float, str], ...] = (
    ("X", "x", 0.34, "post"),
    ("Mastodon", "mastodon", 0.14, "post"),
    ("Support email", "email", 0.22, "email"),
    ("App reviews", "reviews", 0.12, "review"),
    ("Community forum", "forum", 0.10, "post"),
    ("Ideas board", "board", 0.08, "board"),
)

PRODUCTS = (
    "the app",
    "my SIM",
    "the 5G plan",
    "the family plan",
    "roaming",
    "the router",
    "eSIM activation",
    "my bill",
    "the data add-on",
    "the Pixel I bought from you",
)
PLACES = ("Leeds", "downtown", "the airport", "my office", "Bristol", "the train", "home")
TEMPLATES: dict[str, tuple[str, ...]] = {
    "complaint": (
        "@{brand} no signal in {place} since this morning. Third time this week. Useless.",
        "I've been charged twice on {product} this month and nobody answers the chat. Fix it.",
        "@{brand} {product} keeps crashing when I open it. Paying for a service that doesn't work",
        "Waited 45 minutes on hold about {product}, then got cut off. Terrible support.",
        "My order for {product} was due Monday. Still nothing, tracking says nothing.",
        "Speeds in {place} are a joke tonight, can't even load a page. @{brand} what is going on?",
        "You cancelled my {product} without asking and now I can't call abroad. Really angry.",
        "Worst experience ever with {product}. I want to speak to someone who can actually help.",
    ),
    "question": (
        "@{brand} how do I move {product} to my new phone?",
        "Does {product} work in Spain or do I need to buy roaming separately?",
        "Hi, is there an outage in {place}? My phone says no service.",
        "What's the difference between the two data add-ons? Which one rolls over?",
        "Can I change the date my bill is taken? Payday moved. Thanks",
        "@{brand} is there a way to get an itemised copy of {product}?",
        "How long does eSIM activation usually take? Started an hour ago.",
    ),
    "suggestion": (
        "It would be great if {product} let me set a data cap alert at 80%.",
        "Please add dark mode to the app, my eyes at night would thank you",
        "Idea: let family plan members share unused data with each other.",
        "You should let us pause {product} while travelling instead of cancelling.",
        "Would love an option to get the bill as a PDF by email every month.",
    ),
    "praise": (
        "Shout out to {agent} at @{brand} who sorted {product} in five minutes. Brilliant!",
        "Honestly the new 5G in {place} is fast. Impressed.",
        "Switched to {brand_name} last month, best decision, the app is so easy.",
        "Thanks for the quick help with {product} yesterday, really appreciate it",
    ),
    "other": (
        "Anyone else on {brand_name}? Thinking about switching.",
        "New phone day! Setting up {product} now",
        "Watching the match on the train, signal holding up so far",
    ),
}
FOREIGN = (
    ("es", "No tengo cobertura en casa desde ayer, ¿pueden ayudarme?"),
    ("fr", "Bonjour, ma facture est deux fois plus élevée ce mois-ci. Pourquoi ?"),
    ("de", "Die App stürzt ständig ab, seit dem letzten Update. Bitte beheben."),
    ("pt", "Adorei o atendimento de hoje, resolveram tudo rapidamente!"),
)
REPLIES = {
    "complaint": (
        "Hi {name}, sorry about this, that's not the service we want you to have. "
        "Could you DM us your account number so we can look into it right away?",
        "We're sorry {name}. Our engineers are aware and working on it; "
        "we'll update you here as soon as it's fixed.",
    ),
    "question": (
        "Hi {name}! You can do that in the app under Account > Plans. Shout if you get stuck.",
        "Good question {name}: yes, it works across the EU at no extra cost.",
    ),
    "suggestion": ("Love this idea {name}, we've passed it to the product team.",),
    "praise": ("Thank you {name}, made our day! We'll pass it on to the team.",),
    "other": ("Welcome aboard {name}!",),
}
FOLLOW_UPS = {
    True: (
        "Thanks, that fixed it!",
        "Great, working again now. Appreciate it.",
    ),
    False: ("Still not working. This is ridiculous.", "Sent the DM an hour ago, no answer."),
}
AGENTS = ("Jo", "Alex", "Sam", "Kai")
INTENT_MIX = (
    ("complaint", 0.34),
    ("question", 0.26),
    ("suggestion", 0.1),
    ("praise", 0.16),
    ("other", 0.14),
)
REPLY_RATE = {"complaint": 0.82, "question": 0.85, "suggestion": 0.6, "praise": 0.5, "other": 0.2}


@dataclass(frozen=True)
class DemoMessage:
    """One generated message, ready to hand to ingest on the named channel."""

    channel: str
    record: dict[str, Any]


def generate(
    *, seed: int = 7, threads: int = 1500, days: int = 30, now: datetime
) -> Iterator[DemoMessage]:
    """Yield customer threads and staff replies over the last `days` days, deterministically."""
    rng = random.Random(seed)  # noqa: S311 - demo traffic, not secrets
    customers = [_customer(rng, index) for index in range(max(1, threads // 2))]
    counter = 0
    for thread in range(threads):
        channel, kind, _, first_kind = rng.choices(CHANNELS, weights=[c[2] for c in CHANNELS])[0]
        intent = rng.choices([i for i, _ in INTENT_MIX], weights=[w for _, w in INTENT_MIX])[0]
        author = rng.choice(customers)
        started = now - timedelta(days=days) + timedelta(seconds=rng.uniform(0, days * 86400))
        if started > now - timedelta(minutes=5):
            started = now - timedelta(minutes=5 + thread % 50)
        text = _customer_text(rng, intent)
        counter += 1
        first_id = f"demo-{kind}-{counter:06d}"
        yield DemoMessage(channel, _record(first_id, text, started, "in", first_kind, author, ""))
        if rng.random() > REPLY_RATE[intent] or started > now - timedelta(hours=2):
            continue  # left unanswered: the inbox must show it
        delay = timedelta(minutes=min(rng.lognormvariate(3.2, 1.1), 60 * 48))
        replied = started + delay
        if replied > now:
            continue
        counter += 1
        reply_id = f"demo-{kind}-{counter:06d}"
        reply = rng.choice(REPLIES[intent]).format(name=author["display_name"].split()[0])
        staff = {"external_id": BRAND_HANDLE, "handle": BRAND_HANDLE, "display_name": BRAND}
        yield DemoMessage(
            channel,
            _record(reply_id, reply, replied, "out", _reply_kind(first_kind), staff, first_id),
        )
        if intent == "complaint" and rng.random() < 0.45:
            follow_at = replied + timedelta(minutes=rng.uniform(5, 600))
            if follow_at < now:
                counter += 1
                text = rng.choice(FOLLOW_UPS[rng.random() < 0.6])
                yield DemoMessage(
                    channel,
                    _record(
                        f"demo-{kind}-{counter:06d}",
                        text,
                        follow_at,
                        "in",
                        _reply_kind(first_kind),
                        author,
                        reply_id,
                    ),
                )


def _reply_kind(first_kind: str) -> str:
    return {"post": "reply", "board": "board", "review": "reply"}.get(first_kind, first_kind)


def _customer(rng: random.Random, index: int) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    handle = f"{first.lower()}{last.lower()[:3]}{index}"
    # Most people have a small audience; a few have a large one (log-normal).
    audience = int(rng.lognormvariate(5.0, 2.0))
    return {
        "external_id": f"cust-{index:05d}",
        "handle": handle,
        "display_name": f"{first} {last}",
        "audience_size": audience,
    }


def _customer_text(rng: random.Random, intent: str) -> str:
    if rng.random() < 0.05:
        return rng.choice(FOREIGN)[1]
    template = rng.choice(TEMPLATES[intent])
    return template.format(
        brand=BRAND_HANDLE,
        brand_name=BRAND,
        product=rng.choice(PRODUCTS),
        place=rng.choice(PLACES),
        agent=rng.choice(AGENTS),
    )


def _record(
    external_id: str,
    text: str,
    created_at: datetime,
    direction: str,
    kind: str,
    author: dict[str, Any],
    in_reply_to: str,
) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "text": text,
        "created_at": created_at.isoformat(),
        "direction": direction,
        "kind": kind,
        "author": author,
        "in_reply_to": in_reply_to,
    }
