"""Real mail servers on loopback: Debian's dovecot for IMAP, aiosmtpd for SMTP.

The SMTP server plays the internet: what it accepts is appended over IMAP to the
recipient's dovecot mailbox, so a reply can be read back where the customer would see it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

USERS = {
    "support@acme.example": "pw-support",
    "lena.kowalski@mail.example": "pw-lena",
}


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def need(program: str) -> str:
    """The program's path; skip (or fail in CI) with a clear message when it is missing."""
    sbin = Path("/usr/sbin") / program
    path = shutil.which(program) or (str(sbin) if sbin.exists() else None)
    if path:
        return path
    message = f"{program} is not installed: run `make system-packages` (Debian dovecot-imapd)"
    if os.environ.get("EARFUL_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Dovecot:
    """A running dovecot with the USERS mailboxes."""

    port: int
    home: Path

    def client(self, user: str) -> IMAPClient:
        """A logged-in IMAP client of a user."""
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(user, USERS[user])
        return client

    def empty(self) -> None:
        """Delete every message of every user."""
        for user in USERS:
            with self.client(user) as client:
                client.select_folder("INBOX")
                client.delete_messages(client.search("ALL"))
                client.expunge()

    def deliver(self, user: str, raw: bytes) -> None:
        """Put a message into a user's INBOX, as a mail server delivering it would."""
        with self.client(user) as client:
            client.append("INBOX", raw)

    def messages(self, user: str) -> list[bytes]:
        """The raw messages in a user's INBOX, oldest first."""
        with self.client(user) as client:
            client.select_folder("INBOX", readonly=True)
            uids = client.search("ALL")
            fetched = client.fetch(uids, [b"BODY.PEEK[]"])
            return [fetched[uid][b"BODY[]"] for uid in sorted(uids)]


def start_dovecot() -> Iterator[Dovecot]:
    """Start dovecot on a free loopback port in a temporary home; stop it afterwards."""
    binary = need("dovecot")
    home = Path(tempfile.mkdtemp(prefix="earful-dovecot-"))
    home.chmod(0o755)
    mail = home / "mail"
    mail.mkdir()
    # Dovecot refuses to hand mail to root; the mailboxes belong to nobody.
    shutil.chown(mail, "nobody", "nogroup")
    (home / "passwd").write_text(
        "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in USERS.items())
    )
    port = free_port()
    (home / "dovecot.conf").write_text(
        f"""
base_dir = {home}/run
state_dir = {home}/run
log_path = {home}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# No slowdown after a refused login: the expired-password test logs in wrong on purpose.
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:{mail}/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {home}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={mail}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
    )
    subprocess.run([binary, "-c", str(home / "dovecot.conf")], check=True)
    try:
        _wait_for(port)
        yield Dovecot(port, home)
    finally:
        subprocess.run([binary, "-c", str(home / "dovecot.conf"), "stop"], check=False)
        shutil.rmtree(home, ignore_errors=True)


def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class Delivering:
    """An aiosmtpd handler that delivers into dovecot, or answers with a fixed refusal."""

    def __init__(self, dovecot: Dovecot) -> None:
        self.dovecot = dovecot
        self.refusal = ""
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Deliver the message to each known recipient."""
        if self.refusal:
            return self.refusal
        self.received.append(envelope)
        for recipient in envelope.rcpt_tos:
            if recipient in USERS:
                self.dovecot.deliver(recipient, envelope.original_content)
        return "250 Message accepted for delivery"
