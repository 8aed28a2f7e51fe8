"""The outbound wrapper: private addresses refused, rate limits honoured, errors retried."""

from __future__ import annotations

import pytest

from earful.channels.http import (
    BlockedAddressError,
    HttpPolicy,
    check_url,
    guarded_httpx_client,
    guarded_session,
    retry_after_seconds,
)
from tests.channels.fakes import FAST, FakeServer


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/",
        "http://10.0.0.8/",
        "http://192.168.1.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "file:///etc/passwd",
        "gopher://example.org/",
    ],
)
def test_it_refuses_non_public_addresses(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(url)


def test_it_refuses_loopback_even_through_a_client(fake: FakeServer, settings: object) -> None:
    settings.EARFUL_HTTP_ALLOW_LOOPBACK = False  # type: ignore[attr-defined]
    with pytest.raises(BlockedAddressError), guarded_session(FAST) as session:
        session.get(fake.url + "/")


def test_it_refuses_a_redirect_to_a_private_address(fake: FakeServer, settings: object) -> None:
    fake.reply("GET", "/go", 302, "", Location="http://10.1.2.3/secret")
    with pytest.raises(BlockedAddressError), guarded_session(FAST) as session:
        session.get(fake.url + "/go")


def test_it_waits_out_a_short_rate_limit(fake: FakeServer) -> None:
    answers = iter([(429, {"Retry-After": "0"}, "later"), (200, {}, "ok")])
    fake.route("GET", "/limited", lambda _: next(answers))

    with guarded_session(FAST) as session:
        assert session.get(fake.url + "/limited").text == "ok"


def test_it_hands_back_a_long_rate_limit(fake: FakeServer) -> None:
    fake.reply("GET", "/limited", 429, "later", **{"Retry-After": "900"})

    with guarded_session(FAST) as session:
        assert session.get(fake.url + "/limited").status_code == 429
    assert len(fake.requests_to("/limited")) == 1


def test_it_never_retries_a_post_after_a_server_error(fake: FakeServer) -> None:
    fake.reply("POST", "/send", 503, "oops")

    with guarded_session(FAST) as session:
        assert session.post(fake.url + "/send", data=b"x").status_code == 503
    assert len(fake.requests_to("/send")) == 1


def test_the_httpx_client_follows_the_same_policy(fake: FakeServer) -> None:
    answers = iter([(502, {}, "bad gateway"), (200, {}, "ok")])
    fake.route("GET", "/x", lambda _: next(answers))

    with guarded_httpx_client(FAST) as client:
        assert client.get(fake.url + "/x").text == "ok"


def test_it_rebases_a_hard_coded_origin(fake: FakeServer) -> None:
    fake.reply("GET", "/2/users/me", 200, {"data": {"id": "1"}})
    policy = HttpPolicy(retries=0, rebase={"https://api.twitter.com": fake.url})

    with guarded_session(policy) as session:
        assert session.get("https://api.twitter.com/2/users/me").json()["data"]["id"] == "1"


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "30"}, 30.0),
        ({"x-ratelimit-reset": "45"}, 45.0),
        ({"X-RateLimit-Reset": "2000-01-01T00:00:00Z"}, 0.0),
        ({}, None),
    ],
)
def test_it_reads_the_platforms_rate_limit_headers(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert retry_after_seconds(headers) == seconds


def test_a_read_that_times_out_is_retried(fake: FakeServer) -> None:
    import threading

    from earful.channels.http import HttpPolicy

    release = threading.Event()
    calls: list[int] = []

    def slow_then_fast(_: object) -> tuple[int, dict[str, str], str]:
        calls.append(1)
        if len(calls) == 1:
            release.wait(5)
        return 200, {}, "ok"

    fake.route("GET", "/slow", slow_then_fast)
    policy = HttpPolicy(timeout=0.3, retries=1, backoff=0.01)

    try:
        with guarded_session(policy) as session:
            assert session.get(fake.url + "/slow").text == "ok"
    finally:
        release.set()
    assert len(calls) == 2
