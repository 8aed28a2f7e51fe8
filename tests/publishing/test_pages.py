"""The composer, a post's page and the calendar: previews with limits, holds with links,
the override, media checks, imported posts on the calendar, customer text escaped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from earful.channels.models import Channel
from earful.org.models import Event, Membership
from earful.pipeline.ingest import ingest_batch
from earful.publishing.models import Post, PostMedia, PostState
from earful.publishing.services import publish_now, save_draft, schedule
from tests.helpers import numbered, record
from tests.publishing.conftest import complain
from tests.publishing.fake_mastodon import FakeMastodon
from tests.publishing.tenancy_values import PIXEL

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_the_composer_previews_each_channel_against_its_limit(
    client: Client, owner: Any, mastodon: Channel
) -> None:
    client.force_login(owner)
    page = client.get("/o/acme/publish/").content.decode()
    assert "Mastodon" in page and "0 / 500" in page

    long = client.post(
        "/o/acme/publish/preview/", {"text": "a" * 501, "channel": [str(mastodon.code)]}
    ).content.decode()
    assert "501 / 500" in long and "Mastodon allows 500 characters; this has 501" in long

    own = client.post(
        "/o/acme/publish/preview/",
        {"text": "a" * 501, f"text_{mastodon.code}": "short one", "channel": [str(mastodon.code)]},
    ).content.decode()
    assert "9 / 500" in own and "allows" not in own


def test_publishing_from_the_page_holds_with_links_and_a_manager_overrides(
    client: Client,
    owner: Any,
    mastodon: Channel,
    instance: FakeMastodon,
    django_capture_on_commit_callbacks: Any,
) -> None:
    waiting = complain(mastodon, "801", timezone.now() - timedelta(hours=2))
    client.force_login(owner)

    answer = client.post(
        "/o/acme/publish/",
        {"text": "Good morning, Porto!", "channel": [str(mastodon.code)], "action": "publish"},
    )
    post = Post.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/o/acme/publish/{post.code}/"
    assert post.state == PostState.HELD
    page = client.get(answer["Location"]).content.decode()
    assert "Held: listen first" in page
    assert f'href="/o/acme/c/{waiting.number}/"' in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/o/acme/publish/{post.code}/override/", {"reason": "weather warning"})
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED and len(instance.created) == 1
    assert Event.objects.filter(verb="post.overridden", actor=owner).exists()


def test_an_agent_cannot_override_and_a_stranger_channel_is_refused(
    client: Client, agent: Membership, manager: Membership, mastodon: Channel, org: Any
) -> None:
    complain(mastodon, "802", timezone.now() - timedelta(hours=2))
    post = publish_now(manager, save_draft(manager, "Hello", [mastodon]), now=timezone.now())
    assert post.state == PostState.HELD
    client.force_login(agent.user)
    client.post(f"/o/acme/publish/{post.code}/override/", {"reason": "because"})
    post.refresh_from_db()
    assert post.state == PostState.HELD

    refused = client.post(
        "/o/acme/publish/", {"text": "Hi", "channel": ["not-a-code"], "action": "publish"}
    )
    assert refused.status_code == 400 and "choose at least one channel" in refused.content.decode()


def test_media_is_checked_by_its_bytes_and_stored_under_earful_home(
    client: Client, owner: Any, manager: Membership, mastodon: Channel, settings: Any
) -> None:
    post = save_draft(manager, "Look at this", [mastodon])
    client.force_login(owner)
    fake = _upload("evil.png", b"<html>not an image</html>")
    client.post(f"/o/acme/publish/{post.code}/media/", {"file": fake})
    assert not PostMedia.objects.exists()

    named = "<img src=x onerror=alert(1)>.png"
    client.post(f"/o/acme/publish/{post.code}/media/", {"file": _upload(named, PIXEL)})
    item = PostMedia.objects.get()
    assert (item.content_type, item.size) == ("image/png", len(PIXEL))
    stored = settings.EARFUL_HOME / item.path
    assert stored.read_bytes() == PIXEL and "onerror" not in str(stored)
    page = client.get(f"/o/acme/publish/{post.code}/").content.decode()
    assert named not in page and "&lt;img src=x onerror=alert(1)&gt;.png" in page

    client.post(f"/o/acme/publish/{post.code}/media/{item.code}/remove/")
    assert not PostMedia.objects.exists()


def _upload(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/png")


def test_the_calendar_shows_scheduled_held_and_imported_posts_escaped(
    client: Client, owner: Any, manager: Membership, mastodon: Channel
) -> None:
    now = timezone.now()
    post = save_draft(manager, HOSTILE, [mastodon])
    schedule(manager, post, now + timedelta(minutes=30), now=now)
    brand = {"external_id": "brand", "handle": "acmeair"}
    ingest_batch(
        mastodon,
        numbered(
            [
                record(
                    "700",
                    "Throwback: our first flight",
                    direction="out",
                    author=brand,
                    created_at=(now - timedelta(minutes=5)).isoformat(),
                )
            ]
        ),
    )
    client.force_login(owner)
    month = (now + timedelta(minutes=30)).strftime("%Y-%m")
    page = client.get(f"/o/acme/publish/calendar/?month={month}").content.decode()
    assert f'href="/o/acme/publish/{post.code}/"' in page
    assert HOSTILE not in page and "&lt;script&gt;" in page
    if (now - timedelta(minutes=5)).strftime("%Y-%m") == month:
        assert "Throwback: our first flight" in page and "imported" in page


def test_the_calendar_and_composer_read_in_a_fixed_number_of_queries(
    client: Client, owner: Any, manager: Membership, mastodon: Channel
) -> None:
    client.force_login(owner)
    now = timezone.now()
    month = (now + timedelta(minutes=30)).strftime("%Y-%m")

    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as calendar_queries:
            client.get(f"/o/acme/publish/calendar/?month={month}")
        with CaptureQueriesContext(connection) as composer_queries:
            client.get("/o/acme/publish/")
        return len(calendar_queries), len(composer_queries)

    schedule(manager, save_draft(manager, "One", [mastodon]), now + timedelta(minutes=30), now=now)
    few = counts()
    for n in range(5):
        post = save_draft(manager, f"Post {n}", [mastodon])
        schedule(manager, post, now + timedelta(minutes=31 + n), now=now)
    assert counts() == few
