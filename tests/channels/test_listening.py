"""Listening queries: compiled per network, applied locally, hearing posts without @mentions."""

from __future__ import annotations

from typing import Any

import pytest

from earful.channels.listening import Terms, compile_query, hear, queries_for, terms_of
from earful.channels.models import ListeningQuery
from earful.channels.services import ChannelError, save_listening_query

ACME = Terms(include=("Acme Air", "#flyacme", "SkyMiles+"), exclude=("job", "hiring"))


@pytest.mark.parametrize(
    ("text", "heard"),
    [
        ("Flew acme air today and the seat was broken", True),
        ("Loving #AcmeAir lounges", True),
        ("#FlyAcme crew rocks", True),
        ("acme airlines? never heard of it", False),
        ("Acme Air is hiring cabin crew", False),
        ("@acmeair where is my bag", False),
        ("Points on skymiles+ vanished", True),
    ],
)
def test_it_matches_whole_terms_and_drops_exclusions(text: str, heard: bool) -> None:
    assert ACME.matches(text) is heard


def test_it_compiles_boolean_search_for_x_and_reddit() -> None:
    assert compile_query(ACME, "x") == [
        '("Acme Air" OR #flyacme OR SkyMiles+) -job -hiring -is:retweet'
    ]
    assert compile_query(ACME, "reddit") == [
        '("Acme Air" OR #flyacme OR SkyMiles+) NOT job NOT hiring'
    ]


def test_it_searches_term_by_term_where_the_network_has_no_or() -> None:
    assert compile_query(ACME, "bluesky") == ['"Acme Air"', "#flyacme", "SkyMiles+"]
    assert compile_query(ACME, "rss") == []


def test_it_keeps_only_heard_records() -> None:
    records = [{"text": "Acme Air lost my bag"}, {"text": "nice weather"}]

    assert hear([ACME], records) == [records[0]]
    assert hear([], records) == records


def test_it_filters_by_language_when_asked() -> None:
    terms = Terms(include=("acme",), languages=("fr",))

    assert terms.matches("acme encore en retard", "fr")
    assert not terms.matches("acme late again", "en")


def test_queries_apply_to_their_channels_only(org: Any, channel: Any) -> None:
    from earful.channels.services import get_or_create_channel

    other = get_or_create_channel(org, name="Feeds", kind="rss")
    everywhere = save_listening_query(org, "brand", brands=["Acme Air"])
    save_listening_query(org, "rivals", competitors=["Rival"], channels=[other])

    assert queries_for(channel) == [terms_of(everywhere)]
    assert len(queries_for(other)) == 2


def test_it_cleans_quotes_out_of_terms(org: Any) -> None:
    query = ListeningQuery(organization=org, name="q", brands=['Acme "Air"'], hashtags=["flyacme"])

    assert terms_of(query).include == ("Acme Air", "#flyacme")


def test_saving_a_query_again_replaces_it_with_an_audit_event(org: Any) -> None:
    from earful.org.models import Event

    save_listening_query(org, "brand", brands=["Acme"])
    query = save_listening_query(org, "brand", brands=["Acme Air"], exclusions=["job"])

    assert (query.brands, query.exclusions) == (["Acme Air"], ["job"])
    assert ListeningQuery.objects.filter(organization=org).count() == 1
    event = Event.objects.filter(verb="listening_query.saved").order_by("at").last()
    assert event is not None and event.before is not None
    assert event.before["brands"] == ["Acme"]


def test_a_query_must_listen_for_something(org: Any) -> None:
    with pytest.raises(ChannelError, match="at least one"):
        save_listening_query(org, "empty", exclusions=["spam"])
