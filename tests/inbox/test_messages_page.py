"""The message list: signed-in members see their organization's messages, searchable and escaped."""

from __future__ import annotations

from typing import Any

from django.test import Client

from earful.pipeline.ingest import ingest_batch
from tests.helpers import numbered, record


def test_it_sends_a_member_home_to_their_inbox(owner: Any, client: Client) -> None:
    client.force_login(owner)

    response = client.get("/")

    assert response.status_code == 302 and response["Location"] == "/o/acme/inbox/"


def test_it_signs_in_with_email_and_password(org: Any, client: Client) -> None:
    response = client.post(
        "/login/", {"username": "owner@acme.example", "password": "pw-owner-123"}
    )

    assert response.status_code == 302
    assert client.get("/o/acme/messages/").status_code == 200


def test_it_lists_and_searches_messages(channel: Any, owner: Any, client: Client) -> None:
    ingest_batch(channel, numbered([record("1", "lost baggage"), record("2", "great crew")]))
    client.force_login(owner)

    everything = client.get("/o/acme/messages/").content.decode()
    found = client.get("/o/acme/messages/", {"q": "baggage"}).content.decode()

    assert "lost baggage" in everything and "great crew" in everything
    assert "lost baggage" in found and "great crew" not in found
    assert "1 message matching" in found


def test_it_answers_htmx_with_just_the_rows(channel: Any, owner: Any, client: Client) -> None:
    ingest_batch(channel, numbered([record("1", "lost baggage")]))
    client.force_login(owner)

    response = client.get("/o/acme/messages/", {"q": "baggage"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert "lost baggage" in body and "<html" not in body


def test_it_escapes_what_customers_wrote(channel: Any, owner: Any, client: Client) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    ingest_batch(
        channel,
        numbered([record("1", hostile, author={"external_id": "evil", "handle": "<b>evil</b>"})]),
    )
    client.force_login(owner)

    body = client.get("/o/acme/messages/", {"q": "<script>"}).content.decode()
    body += client.get("/o/acme/messages/").content.decode()

    assert "<script>alert" not in body and "<img src=x" not in body and "<b>evil" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body


def test_the_list_costs_the_same_queries_for_5_or_50_messages(
    channel: Any, owner: Any, client: Client, django_assert_max_num_queries: Any
) -> None:
    ingest_batch(channel, numbered([record(str(n), f"message {n}") for n in range(50)]))
    client.force_login(owner)

    with django_assert_max_num_queries(8):
        response = client.get("/o/acme/messages/")

    assert response.content.decode().count("<tr class=") == 50
