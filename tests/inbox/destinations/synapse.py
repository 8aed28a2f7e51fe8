"""A real Matrix homeserver on loopback: Synapse from PyPI (the `dev` extra), started once per
test session in a temporary directory, with a bot and an engineer registered on it.

No federation, no TLS, SQLite, and rate limits far above what the tests send. When Synapse is
missing or does not start, the tests that need it skip with the reason, or fail under
EARFUL_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import ctypes
import hashlib
import hmac
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.channels.mailservers import free_port

SERVER_NAME = "localhost"
PR_SET_PDEATHSIG = 1
STARTUP_SECONDS = 120
# Far above anything a test sends: Synapse's defaults would make a test wait.
LOOSE = {"per_second": 1000, "burst_count": 1000}


def unavailable(message: str) -> None:
    """Skip with the reason, or fail when CI demands the services (EARFUL_REQUIRE_SERVICES=1)."""
    if os.environ.get("EARFUL_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}; EARFUL_REQUIRE_SERVICES=1 demands it")
    pytest.skip(message)


@dataclass(frozen=True)
class Account:
    """A user registered on the homeserver, with an access token of its own."""

    user_id: str
    access_token: str


def config(home: Path, port: int, shared_secret: str) -> dict[str, Any]:
    """A minimal homeserver.yaml (as a dict): one plain-HTTP client listener on 127.0.0.1."""
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(home / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(home / "homeserver.db")}},
        "log_config": str(home / "log.yaml"),
        "media_store_path": str(home / "media"),
        "signing_key_path": str(home / "signing.key"),
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": secrets.token_hex(32),
        "form_secret": secrets.token_hex(32),
        "report_stats": False,
        "enable_metrics": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        "rc_message": LOOSE,
        "rc_registration": LOOSE,
        "rc_login": {"address": LOOSE, "account": LOOSE, "failed_attempts": LOOSE},
        "rc_joins": {"local": LOOSE, "remote": LOOSE},
        "rc_invites": {"per_room": LOOSE, "per_user": LOOSE, "per_issuer": LOOSE},
        "rc_room_creation": LOOSE,
    }


LOG_CONFIG = """\
version: 1
formatters:
  plain: {format: "%(asctime)s %(name)s %(levelname)s %(message)s"}
handlers:
  file: {class: logging.FileHandler, formatter: plain, filename: "LOG_FILE"}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


def _die_with_parent() -> None:
    # A test run that is killed must not leave a homeserver behind (Linux's parent-death signal).
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Synapse:
    """A Synapse process serving the client API on a loopback port."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.shared_secret = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start Synapse (its configuration and key written the first time); wait for it."""
        from signedjson.key import generate_signing_key, write_signing_keys

        path = self.home / "homeserver.yaml"
        if not path.exists():
            (self.home / "media").mkdir(parents=True, exist_ok=True)
            with (self.home / "signing.key").open("w") as key_file:
                write_signing_keys(key_file, [generate_signing_key("a_test")])
            log = str(self.home / "homeserver.log")
            (self.home / "log.yaml").write_text(LOG_CONFIG.replace("LOG_FILE", log))
            # JSON is YAML: no YAML writer needed.
            path.write_text(json.dumps(config(self.home, self.port, self.shared_secret)))
        output = (self.home / "stdout.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(path)],
            cwd=self.home,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited at startup: {self.tail()}")
            try:
                if requests.get(f"{self.url}/_matrix/client/versions", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"Synapse did not answer within {STARTUP_SECONDS} s: {self.tail()}")

    def tail(self) -> str:
        """The end of Synapse's own output and log, to say why it failed."""
        parts = []
        for name in ("stdout.log", "homeserver.log"):
            log = self.home / name
            if log.exists():
                parts.append(log.read_text(errors="replace")[-2000:])
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL if it hangs)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def register(self, localpart: str) -> Account:
        """A new user, through Synapse's shared-secret registration admin API."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = requests.get(endpoint, timeout=10).json()["nonce"]
        password = secrets.token_hex(12)
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode()]))
        mac.update(b"\x00notadmin")
        answer = requests.post(
            endpoint,
            json={
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": False,
                "mac": mac.hexdigest(),
            },
            timeout=10,
        )
        answer.raise_for_status()
        body = answer.json()
        return Account(body["user_id"], body["access_token"])

    def call(self, account: Account, method: str, path: str, body: Any = None) -> Any:
        """One client-server API request as the account; its JSON answer."""
        answer = requests.request(
            method,
            f"{self.url}/_matrix/client/v3{path}",
            json=body,
            headers={"Authorization": f"Bearer {account.access_token}"},
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()

    def room(self, owner: Account, *members: Account, name: str = "IT help") -> str:
        """A new unencrypted private room of the owner that the members have joined."""
        room_id: str = self.call(
            owner,
            "POST",
            "/createRoom",
            {"name": name, "preset": "private_chat", "invite": [m.user_id for m in members]},
        )["room_id"]
        for member in members:
            self.call(member, "POST", f"/join/{room_id}", {})
        return room_id


def started(home: Path) -> Synapse:
    """A running Synapse, or a skip (a failure in CI) saying why there is none."""
    if importlib.util.find_spec("synapse") is None:
        unavailable("matrix-synapse is not installed: `pip install -e '.[dev]'`")
    server = Synapse(home)
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        server.stop()
        unavailable(f"Synapse did not start: {exc}")
    return server
