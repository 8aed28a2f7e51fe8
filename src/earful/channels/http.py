"""The one way connectors reach the outside: timeouts, retries with backoff, rate-limit
headers honoured, and a guard against private addresses.

Client libraries get it injected: a `requests.Session` (Mastodon.py, praw, tweepy, feeds) or an
httpx transport (atproto). Every hop, redirects included, passes the guard, since both libraries
call the adapter or transport once per hop.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504})
# Only these are safe to send twice after an answer was lost; others only when the server
# said it did nothing (429, or a refused connection).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
USER_AGENT = "earful/0.1 (self-hosted social listening; +https://github.com/earful)"


class OutboundError(Exception):
    """A request that could not be made or answered; the message says why."""


class BlockedAddressError(OutboundError):
    """The destination resolves to a private, loopback or otherwise non-public address."""


class RateLimitedError(OutboundError):
    """The platform asked us to wait until `until`; the scheduler pauses the channel till then."""

    def __init__(self, until: datetime, message: str = "") -> None:
        super().__init__(message or f"rate limited until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class HttpPolicy:
    """How patient outbound calls are: per-try timeout, retries, and the longest wait honoured."""

    timeout: float = 15.0
    retries: int = 3
    backoff: float = 0.5
    # A Retry-After up to this long is waited out in place; a longer one becomes RateLimitedError.
    max_wait: float = 10.0
    # Rewrite of a hard-coded API origin to the configured one (e.g. tweepy's fixed host).
    rebase: Mapping[str, str] = field(default_factory=dict)


def loopback_allowed() -> bool:
    """Whether loopback destinations are allowed (tests and local-only setups opt in)."""
    return bool(getattr(settings, "EARFUL_HTTP_ALLOW_LOOPBACK", False))


def check_destination(host: str, port: int | None = None) -> None:
    """Refuse a host that resolves to any non-public address (loopback only when allowed)."""
    if not host:
        raise BlockedAddressError("no host in the address")
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundError(f"cannot resolve {host!r}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_loopback and loopback_allowed():
            continue
        if not address.is_global or address.is_multicast:
            raise BlockedAddressError(f"{host!r} resolves to a non-public address ({address})")


def check_url(url: str) -> None:
    """Refuse anything but http(s) to a public host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedAddressError(f"only http(s) addresses are allowed, not {parts.scheme!r}")
    check_destination(parts.hostname or "", parts.port)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait, from Retry-After or the platforms' reset headers."""
    now = now or datetime.now(UTC)
    lower = {k.lower(): v for k, v in headers.items()}
    value = lower.get("retry-after")
    if value:
        if value.strip().isdigit():
            return float(value.strip())
        try:
            return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
        except (TypeError, ValueError):
            pass
    for name in ("x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset"):
        reset = lower.get(name)
        if reset:
            return _reset_seconds(reset.strip(), now)
    return None


def _reset_seconds(reset: str, now: datetime) -> float | None:
    # Platforms disagree: epoch seconds (X, Bluesky), seconds left (Reddit, IETF draft),
    # or an ISO timestamp (Mastodon).
    try:
        number = float(reset)
    except ValueError:
        try:
            when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
        except ValueError:
            return None
        return max(0.0, (when - now).total_seconds())
    if number > 1_000_000_000:
        return max(0.0, number - now.timestamp())
    return max(0.0, number)


def rate_limit_until(headers: Mapping[str, str], default_seconds: float = 60.0) -> datetime:
    """When a rate-limited channel may try again, from the answer's headers."""
    wait = retry_after_seconds(headers)
    return datetime.now(UTC) + timedelta(seconds=default_seconds if wait is None else wait)


R = TypeVar("R")


def _with_retries(
    policy: HttpPolicy,
    method: str,
    url: str,
    send: Callable[[], R],
    status: Callable[[R], int],
    headers: Callable[[R], Mapping[str, str]],
    transient: tuple[type[Exception], ...],
    refused: tuple[type[Exception], ...],
) -> R:
    check_url(url)
    attempt = 0
    while True:
        attempt += 1
        last_try = attempt > policy.retries
        try:
            response = send()
        except refused:
            if last_try:
                raise
            log.info("connection to %s refused; retry %d", urlsplit(url).hostname, attempt)
            time.sleep(policy.backoff * 2 ** (attempt - 1))
            continue
        except transient:
            if last_try or method not in IDEMPOTENT_METHODS:
                raise
            log.info("%s %s failed; retry %d", method, urlsplit(url).hostname, attempt)
            time.sleep(policy.backoff * 2 ** (attempt - 1))
            continue
        code = status(response)
        if code == 429 and not last_try:
            wait = retry_after_seconds(headers(response))
            if wait is not None and wait <= policy.max_wait:
                time.sleep(wait)
                continue
            return response
        if code in RETRY_STATUSES and method in IDEMPOTENT_METHODS and not last_try:
            time.sleep(policy.backoff * 2 ** (attempt - 1))
            continue
        return response


def _rebase(url: str, rebase: Mapping[str, str]) -> str:
    for origin, target in rebase.items():
        if url.startswith(origin):
            new = urlsplit(target.rstrip("/") + url[len(origin) :])
            return urlunsplit(new)
    return url


class GuardedAdapter(HTTPAdapter):
    """A requests adapter that applies the policy to every request and redirect hop."""

    def __init__(self, policy: HttpPolicy) -> None:
        super().__init__(max_retries=0)
        self.policy = policy

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        """Send through the guard, with the policy's timeout and retries."""
        request.url = _rebase(request.url or "", self.policy.rebase)
        kwargs["timeout"] = self.policy.timeout
        return _with_retries(
            self.policy,
            (request.method or "GET").upper(),
            request.url,
            lambda: super(GuardedAdapter, self).send(request, **kwargs),
            lambda r: r.status_code,
            lambda r: r.headers,
            (requests.Timeout, requests.ConnectionError),
            (requests.exceptions.ConnectTimeout,),
        )


def guarded_session(policy: HttpPolicy | None = None) -> requests.Session:
    """A requests session whose every call goes through the guard and the policy."""
    session = requests.Session()
    adapter = GuardedAdapter(policy or HttpPolicy())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # Proxies from the environment would bypass the address guard.
    session.trust_env = False
    return session


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport that applies the policy to every request and redirect hop."""

    def __init__(self, policy: HttpPolicy) -> None:
        super().__init__(retries=0)
        self.policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the guard, with the policy's retries."""
        rebased = _rebase(str(request.url), self.policy.rebase)
        if rebased != str(request.url):
            request.url = httpx.URL(rebased)

        def send() -> httpx.Response:
            response = super(GuardedTransport, self).handle_request(request)
            response.read()
            return response

        return _with_retries(
            self.policy,
            request.method.upper(),
            str(request.url),
            send,
            lambda r: r.status_code,
            lambda r: r.headers,
            (httpx.TimeoutException, httpx.NetworkError),
            (httpx.ConnectError,),
        )


def guarded_httpx_client(policy: HttpPolicy | None = None) -> httpx.Client:
    """An httpx client whose every call goes through the guard and the policy."""
    policy = policy or HttpPolicy()
    return httpx.Client(
        transport=GuardedTransport(policy),
        timeout=policy.timeout,
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
        follow_redirects=True,
    )
