"""The feedback widget: hosted page, embeddable script, and what it stores or refuses."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from earful.channels.models import Channel
from earful.channels.services import create_channel
from earful.channels.widget.receiver import form_token
from earful.conversations.models import Message
from tests.channels.fakes import fixture_json


@pytest.fixture
def widget(org: Any) -> Channel:
    return create_channel(
        org,
        name="Site widget",
        kind="widget",
        settings={
            "title": "Tell <b>Acme</b> what you think",
            "embed_origins": ["https://www.acme-air.example"],
            "max_per_minute": 2,
        },
    )


def submit(widget: Channel, **overrides: str) -> Any:
    data = {**fixture_json("widget", "submission.json"), "token": form_token(widget), **overrides}
    return Client().post(f"/in/widget/{widget.code}/", data)


def test_the_hosted_page_shows_an_escaped_form_that_may_be_embedded(widget: Channel) -> None:
    response = Client().get(f"/in/widget/{widget.code}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Tell &lt;b&gt;Acme&lt;/b&gt; what you think" in page
    assert 'name="website"' in page
    assert response["Content-Security-Policy"] == "frame-ancestors https://www.acme-air.example"
    assert "X-Frame-Options" not in response


def test_a_submission_becomes_a_conversation_with_the_address_to_answer(widget: Channel) -> None:
    response = submit(widget)

    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    message = Message.objects.get(channel=widget)
    assert message.text.startswith("The check-in page kept timing out")
    assert message.kind == "direct"
    assert message.conversation is not None
    assert message.author_handle == "ines.duarte@mail.example"
    assert message.raw is not None
    assert message.raw.payload["source"]["reply_to"] == "ines.duarte@mail.example"


def test_the_same_submission_twice_is_stored_once(widget: Channel) -> None:
    token = form_token(widget)
    submit(widget, token=token)
    submit(widget, token=token)

    assert Message.objects.filter(channel=widget).count() == 1


def test_what_the_customer_typed_is_escaped_when_shown_again(widget: Channel) -> None:
    response = submit(widget, email="<script>alert(1)</script>")

    assert response.status_code == 400
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not Message.objects.exists()


def test_a_filled_honeypot_is_thanked_and_dropped(widget: Channel) -> None:
    response = submit(widget, website="http://spam.example")

    assert response.status_code == 200
    assert not Message.objects.exists()


def test_a_forged_token_is_refused(widget: Channel) -> None:
    response = submit(widget, token="forged:token")

    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not Message.objects.exists()


def test_a_flood_is_refused(widget: Channel) -> None:
    for n in range(2):
        assert submit(widget, text=f"message {n}").status_code == 200

    assert submit(widget, text="one more").status_code == 429
    assert Message.objects.filter(channel=widget).count() == 2


def test_the_embed_script_adds_an_iframe_of_the_hosted_page(widget: Channel) -> None:
    response = Client().get(f"/in/widget/{widget.code}/embed.js")

    script = response.content.decode()
    assert response["Content-Type"].startswith("application/javascript")
    assert f'"http://testserver/in/widget/{widget.code}/"' in script
    assert '"Tell <b>Acme</b> what you think"' in script
    assert "</script>" not in script


def test_an_unknown_or_disabled_widget_is_404(widget: Channel, channel: Channel) -> None:
    from earful.channels.services import set_channel_enabled

    assert Client().get(f"/in/widget/{channel.code}/").status_code == 404
    set_channel_enabled(widget, False)
    assert Client().get(f"/in/widget/{widget.code}/").status_code == 404


def test_a_widget_message_is_answered_through_the_email_channel(widget: Channel, org: Any) -> None:
    from earful.channels.connector import ConnectorError
    from earful.channels.outgoing import channel_for_reply, reply_for

    submit(widget)
    message = Message.objects.get(channel=widget)
    with pytest.raises(ConnectorError, match="no email channel"):
        channel_for_reply(message)
    mail = create_channel(
        org,
        name="Support mail",
        kind="email",
        settings={
            "address": "support@acme.example",
            "imap_host": "imap.acme.example",
            "username": "support@acme.example",
            "password": "pw",
            "smtp_host": "smtp.acme.example",
        },
    )

    assert channel_for_reply(message) == mail
    assert reply_for(message, "Thanks Ines").to == "ines.duarte@mail.example"
