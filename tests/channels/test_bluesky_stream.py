"""Bluesky's Jetstream as a stream, against a local websocket server sending its events."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.server import ServerConnection, serve

from earful.channels.models import Channel
from earful.channels.services import create_channel, save_listening_query
from earful.channels.streams import stream_channel, streaming_channels
from earful.conversations.models import Message
from tests.channels.fakes import FAST, fixture_text


class Jetstream:
    """Sends the fixture events to each subscriber, then closes; remembers the request paths."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.server = serve(self.handle, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/subscribe"

    def handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        self.paths.append(connection.request.path)
        for line in fixture_text("bluesky", "jetstream_events.jsonl").splitlines():
            connection.send(line)


@pytest.fixture
def jetstream(loopback: None) -> Iterator[Jetstream]:
    stream = Jetstream()
    yield stream
    stream.server.shutdown()


@pytest.fixture
def firehose(org: Any, jetstream: Jetstream) -> Channel:
    save_listening_query(org, "brand", brands=["Acme Air"])
    return create_channel(
        org,
        name="Firehose",
        kind="bluesky",
        settings={
            "handle": "acmeair.bsky.social",
            "app_password": "app-pass-1234",
            "stream": True,
            "jetstream_url": jetstream.url,
        },
    )


def test_it_keeps_posts_naming_the_brand_and_saves_the_cursor(
    firehose: Channel, jetstream: Jetstream
) -> None:
    run = stream_channel(firehose, policy=FAST)

    assert run.error == ""
    texts = sorted(Message.objects.filter(channel=firehose).values_list("text", flat=True))
    assert texts == [
        "#AcmeAir crew were great today",
        "Third time Acme Air has bumped me this year. Unreal.",
    ]
    firehose.refresh_from_db()
    assert firehose.stream_cursor == {"time_us": 1795600800555666}
    assert jetstream.paths == ["/subscribe?wantedCollections=app.bsky.feed.post"]


def test_it_resumes_from_the_saved_cursor(firehose: Channel, jetstream: Jetstream) -> None:
    stream_channel(firehose, policy=FAST)
    firehose.refresh_from_db()

    again = stream_channel(firehose, policy=FAST)

    assert jetstream.paths[-1].endswith("&cursor=1795600800555666")
    assert (again.stored, again.duplicates) == (0, 2)


def test_only_channels_that_ask_for_it_stream(firehose: Channel, org: Any) -> None:
    create_channel(
        org,
        name="Polled",
        kind="bluesky",
        settings={"handle": "acmeair.bsky.social", "app_password": "app-pass-1234"},
    )

    assert streaming_channels() == [firehose]


def test_a_stream_without_terms_is_refused(org: Any, jetstream: Jetstream) -> None:
    channel = create_channel(
        org,
        name="Everything",
        kind="bluesky",
        settings={
            "handle": "a.bsky.social",
            "app_password": "pw-12345",
            "stream": True,
            "jetstream_url": jetstream.url,
        },
    )

    run = stream_channel(channel, policy=FAST)

    assert "needs a listening query" in run.error
    channel.refresh_from_db()
    assert "needs a listening query" in channel.last_error
