"""The channel commands, run as typer commands on the test database."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from earful.channels.services import create_channel
from earful.cli import listen_commands
from tests.channels.fakes import FakeServer, fixture_text

app = typer.Typer()
app.command("listen")(listen_commands.listen)
app.command("channels")(listen_commands.channels)
app.command("channel-check")(listen_commands.channel_check)


def test_listen_once_fetches_due_channels(org: Any, fake: FakeServer) -> None:
    fake.reply("GET", "/feed", 200, fixture_text("rss", "rss2.xml"))
    create_channel(org, name="Forum", kind="rss", settings={"url": fake.url + "/feed"})

    result = CliRunner().invoke(app, ["listen", "--once"])

    assert result.exit_code == 0, result.output
    assert "Forum: 1 page(s), 2 new" in result.output


def test_channel_check_says_what_fails(org: Any, fake: FakeServer) -> None:
    fake.reply("GET", "/feed", 401, "no")
    create_channel(org, name="Forum", kind="rss", settings={"url": fake.url + "/feed"})

    result = CliRunner().invoke(app, ["channel-check", "Forum", "--org", "acme"])

    assert result.exit_code == 1
    assert "the feed refused our credentials (HTTP 401)" in result.output
