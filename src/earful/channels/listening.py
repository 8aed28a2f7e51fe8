"""Listening queries: compiled to each network's search syntax, and applied locally everywhere.

A query hears a post that names any of its brands, products, hashtags or competitors and
none of its exclusions, whether or not the post @mentions anyone. Networks whose search
understands boolean syntax (X, Reddit) get one compiled query; networks whose search does
not (Bluesky treats spaces as AND and ignores OR; Mastodon has no operators) get one search
per term. Either way, the local matcher has the last word, since remote search is fuzzy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from earful.channels.models import Channel, ListeningQuery

MAX_TERM_CHARS = 100


@dataclass(frozen=True)
class Terms:
    """A listening query as plain data: what to hear, what to drop, in which languages."""

    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @cached_property
    def _include_re(self) -> re.Pattern[str] | None:
        return _alternation(self.include)

    @cached_property
    def _exclude_re(self) -> re.Pattern[str] | None:
        return _alternation(self.exclude)

    def matches(self, text: str, language: str = "") -> bool:
        """Whether the text names an included term and no excluded one (case-insensitive)."""
        if self.languages and language and language not in self.languages:
            return False
        if self._include_re is None or not self._include_re.search(text):
            return False
        return self._exclude_re is None or not self._exclude_re.search(text)


def _clean(terms: Iterable[Any]) -> tuple[str, ...]:
    out = []
    for term in terms:
        text = " ".join(str(term).replace('"', " ").split())[:MAX_TERM_CHARS]
        if text and text not in out:
            out.append(text)
    return tuple(out)


def _variants(term: str) -> list[str]:
    # A brand of several words is also written as one hashtag: "Acme Air" -> #AcmeAir.
    bare = term.lstrip("#")
    forms = [term]
    if not term.startswith("#"):
        forms.append("#" + bare.replace(" ", ""))
    return forms


def _alternation(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    parts = [
        r"(?<![\w#@])" + r"\s+".join(re.escape(word) for word in form.split()) + r"(?!\w)"
        for term in terms
        for form in _variants(term)
    ]
    return re.compile("|".join(parts), re.IGNORECASE)


def terms_of(query: ListeningQuery) -> Terms:
    """The query's terms, cleaned of quotes and repeats."""
    hashtags = ["#" + str(tag).lstrip("#") for tag in query.hashtags]
    return Terms(
        include=_clean([*query.brands, *query.products, *hashtags, *query.competitors]),
        exclude=_clean(query.exclusions),
        languages=_clean(query.languages),
    )


def queries_for(channel: Channel) -> list[Terms]:
    """The enabled listening queries that apply to the channel (all channels when none named)."""
    queries = ListeningQuery.objects.filter(organization_id=channel.organization_id, enabled=True)
    out = []
    for query in queries.prefetch_related("channels"):
        named = {c.pk for c in query.channels.all()}
        if not named or channel.pk in named:
            out.append(terms_of(query))
    return out


def _quoted(term: str) -> str:
    return f'"{term}"' if " " in term else term


def compile_query(terms: Terms, network: str) -> list[str]:
    """The network's search strings for the terms; empty where the network has no search."""
    if not terms.include:
        return []
    if network == "x":
        # X API v2 recent search: OR binds tighter than the implicit AND, '-' negates.
        include = " OR ".join(_quoted(t) for t in terms.include)
        query = f"({include})" if len(terms.include) > 1 else include
        query += "".join(f" -{_quoted(t)}" for t in terms.exclude)
        if len(terms.languages) == 1:
            query += f" lang:{terms.languages[0]}"
        return [query + " -is:retweet"]
    if network == "reddit":
        # Reddit search is Lucene: OR, NOT and quoted phrases.
        include = " OR ".join(_quoted(t) for t in terms.include)
        query = f"({include})" if len(terms.include) > 1 else include
        return [query + "".join(f" NOT {_quoted(t)}" for t in terms.exclude)]
    if network in ("bluesky", "mastodon"):
        # No OR: one search per term, exclusions applied locally.
        return [_quoted(t) for t in terms.include]
    return []


def hear(terms: list[Terms], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records any query hears; all of them when the channel has no queries."""
    if not terms:
        return records
    return [r for r in records if any(t.matches(*_text_and_language(r)) for t in terms)]


def _text_and_language(record: dict[str, Any]) -> tuple[str, str]:
    source = record.get("source")
    language = source.get("language", "") if isinstance(source, dict) else ""
    return str(record.get("text", "")), str(language or "")
