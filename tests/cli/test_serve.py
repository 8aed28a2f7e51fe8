"""`earful serve` answers HTTP with the sign-in page (a real server process on loopback)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_with_the_sign_in_page(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "EARFUL_HOME": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "earful", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not body:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as r:
                    body = r.read().decode()
            except OSError:
                assert server.poll() is None, "the server exited"
                time.sleep(0.2)
        assert "Sign in to earful" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/earful/earful.css") as r:
            assert b"--accent" in r.read()
    finally:
        server.terminate()
        server.wait(timeout=10)
