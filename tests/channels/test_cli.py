"""The channel commands, run as typer commands on the test database."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from earful.channels.models import Channel
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


app.command("channel-add")(listen_commands.channel_add)
app.command("listening-query")(listen_commands.listening_query)


def test_channel_add_reads_settings_from_a_file(org: Any, tmp_path: Any) -> None:
    settings = tmp_path / "feed.json"
    settings.write_text('{"url": "https://forum.example/feed"}')

    result = CliRunner().invoke(
        app, ["channel-add", "Forum", "--kind", "rss", "--settings", str(settings), "--org", "acme"]
    )

    assert result.exit_code == 0, result.output
    assert Channel.objects.get(organization=org, name="Forum").settings == {
        "url": "https://forum.example/feed"
    }


def test_channel_add_explains_bad_settings(org: Any, tmp_path: Any) -> None:
    settings = tmp_path / "feed.json"
    settings.write_text('{"url": "not a url"}')

    result = CliRunner().invoke(
        app, ["channel-add", "Forum", "--kind", "rss", "--settings", str(settings), "--org", "acme"]
    )

    assert result.exit_code == 2
    assert "invalid rss settings: url" in result.output


def test_listening_query_shows_the_compiled_searches(org: Any) -> None:
    result = CliRunner().invoke(
        app,
        ["listening-query", "brand", "--org", "acme", "--brand", "Acme Air", "--exclude", "job"],
    )

    assert result.exit_code == 0, result.output
    assert 'x: "Acme Air" -job -is:retweet' in result.output
    assert 'reddit: "Acme Air" NOT job' in result.output
