"""A tiny HTTP server on 127.0.0.1 that the platform fakes program route by route."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from earful.channels.http import HttpPolicy

# Quick retries so error tests stay fast; timings are never asserted.
FAST = HttpPolicy(timeout=5.0, retries=2, backoff=0.01, max_wait=1.0)


@dataclass
class Seen:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str = "") -> str:
        """The first value of a query parameter."""
        return self.query.get(name, [default])[0]

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        """The body as a urlencoded form."""
        return parse_qs(self.body.decode())


Reply = tuple[int, dict[str, str], Any]
Handler = Callable[[Seen], Reply]


@dataclass
class FakeServer:
    """Routes (method, path regex) to handlers and records every request."""

    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:40123."""
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Answer requests whose path fully matches the regex; later routes win."""
        self.routes.insert(0, (method, re.compile(path), handler))

    def reply(self, method: str, path: str, status: int, body: Any, **headers: str) -> None:
        """Always answer this route with the same status, body and headers."""
        self.route(method, path, lambda _: (status, dict(headers), body))

    def requests_to(self, path: str) -> list[Seen]:
        """The requests received on a path."""
        return [s for s in self.seen if s.path == path]

    def start(self) -> None:
        """Listen on a free loopback port in a background thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                fake.seen.append(seen)
                for method, pattern, handler in fake.routes:
                    if method == self.command and pattern.fullmatch(parts.path):
                        status, headers, body = handler(seen)
                        break
                else:
                    status, headers, body = 404, {}, {"error": "Record not found"}
                self._write(status, headers, body)

            def _write(self, status: int, headers: dict[str, str], body: Any) -> None:
                if isinstance(body, dict | list):
                    payload = json.dumps(body).encode()
                    headers.setdefault("Content-Type", "application/json; charset=utf-8")
                elif isinstance(body, str):
                    payload = body.encode()
                else:
                    payload = body or b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # Clients keep connections alive; closing must not wait for them to hang up.
        self.server.block_on_close = False
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


FIXTURES = Path(__file__).resolve().parents[2] / "src" / "earful" / "channels"


def fixture_bytes(kind: str, name: str) -> bytes:
    """A connector's fixture file, as bytes."""
    return (FIXTURES / kind / "fixtures" / name).read_bytes()


def fixture_text(kind: str, name: str) -> str:
    """A connector's fixture file, as text."""
    return fixture_bytes(kind, name).decode("utf-8")


def fixture_json(kind: str, name: str) -> Any:
    """A connector's fixture file, parsed as JSON."""
    return json.loads(fixture_text(kind, name))
