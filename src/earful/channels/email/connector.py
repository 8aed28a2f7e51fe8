"""Email: IMAP in (imapclient), SMTP out (smtplib), threaded by Message-ID and References.

The cursor is the folder's UIDVALIDITY and the last UID stored; messages are read with
BODY.PEEK so the mailbox's read/unread state is left to people. A reply carries In-Reply-To
and References, so it lands in the customer's mail client under the original, and its
Message-ID is derived from the outbox's idempotency key, so a retried send is recognisable.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr, parsedate_to_datetime
from typing import Any, Literal

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import (  # type: ignore[import-untyped]
    IMAPClientError,
    LoginError,
)
from pydantic import Field, model_validator

from earful.channels.connector import (
    AuthError,
    ChannelSettings,
    Connector,
    ConnectorError,
    Cursor,
    FetchResult,
    OutgoingReply,
    Record,
)
from earful.channels.http import RateLimitedError, check_destination
from earful.channels.normalize import clip, html_to_text

ADDRESS = re.compile(r"[^@\s<>\"'()\[\],;:\\]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}")
# SMTP answers that mean "not now": wait and try again later rather than count a failure.
TRY_LATER = frozenset({421, 450, 451, 452})
QUOTE_INTRO = re.compile(r"^On .{5,200} wrote:\s*$")


class EmailSettings(ChannelSettings):
    """The mailbox to read and the server to send through; security 'none' is loopback-only."""

    address: str = Field(max_length=254)
    display_name: str = Field(default="", max_length=100)
    imap_host: str = Field(max_length=253)
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str = Field(max_length=254)
    password: str = Field(max_length=500)
    folder: str = Field(default="INBOX", max_length=200)
    smtp_host: str = Field(max_length=253)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["ssl", "starttls", "none"] = "starttls"
    smtp_username: str = Field(default="", max_length=254)
    smtp_password: str = Field(default="", max_length=500)
    page_size: int = Field(default=50, ge=1, le=500)

    @model_validator(mode="after")
    def _valid_address(self) -> EmailSettings:
        if not ADDRESS.fullmatch(self.address):
            raise ValueError("address must be a plain email address")
        return self


def _header(value: Any, limit: int = 998) -> str:
    # Header values from a customer must never smuggle a line break into ours.
    return " ".join(str(value or "").split())[:limit]


def _message_ids(value: Any) -> list[str]:
    return re.findall(r"<([^<>\s]{1,250})>", str(value or ""))


def _body_text(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if part.get_content_subtype() == "html":
        return html_to_text(str(content))
    return _without_quote(str(content).replace("\r\n", "\n"))


def _without_quote(text: str) -> str:
    """The new part of a reply: the trailing quoted block and its 'On ... wrote:' go."""
    lines = text.rstrip().split("\n")
    while lines and (lines[-1].startswith(">") or not lines[-1].strip()):
        lines.pop()
    if lines and QUOTE_INTRO.match(lines[-1].strip()):
        lines.pop()
    return "\n".join(lines).strip()


def to_record(raw: bytes, uid_key: str) -> Record | None:
    """A record from one RFC 5322 message; None when it has neither text nor subject."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    subject = _header(message.get("Subject"), 300)
    text = _body_text(message) or subject
    if not text:
        return None
    ids = _message_ids(message.get("Message-ID"))
    references = _message_ids(message.get("References"))
    parent = (_message_ids(message.get("In-Reply-To")) or references[-1:] or [""])[0]
    name, address = parseaddr(_header(message.get("From")))
    _, reply_to = parseaddr(_header(message.get("Reply-To")))
    try:
        created = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        created = datetime.now(UTC)
    record: Record = {
        "external_id": ids[0] if ids else uid_key,
        "text": text,
        "created_at": (created if created.tzinfo else created.replace(tzinfo=UTC)).isoformat(),
        "kind": "email",
        "in_reply_to": parent,
        "source": {
            "via": "email",
            "subject": subject,
            "message_id": ids[0] if ids else "",
            "references": references[-20:],
            "reply_to": reply_to if ADDRESS.fullmatch(reply_to) else "",
        },
    }
    if ADDRESS.fullmatch(address):
        record["author"] = {
            "external_id": address.lower(),
            "handle": address.lower(),
            "display_name": clip(name, 200),
        }
    return record


class EmailConnector(Connector):
    """Reads one IMAP folder and answers by SMTP."""

    kind = "email"
    settings_model = EmailSettings
    settings: EmailSettings

    def _imap(self) -> IMAPClient:
        s = self.settings
        check_destination(s.imap_host, s.imap_port)
        try:
            client = IMAPClient(
                s.imap_host,
                port=s.imap_port,
                ssl=s.imap_security == "ssl",
                timeout=self.policy.timeout,
            )
            if s.imap_security == "starttls":
                client.starttls(ssl.create_default_context())
            client.login(s.username, s.password)
        except LoginError as exc:
            raise AuthError(f"the IMAP server refused the login: {_reason(exc)}") from None
        except (OSError, IMAPClientError) as exc:
            raise ConnectorError(f"cannot reach the IMAP server: {_reason(exc)}") from None
        return client

    def fetch(self, cursor: Cursor) -> FetchResult:
        """The next page of messages after the last UID stored."""
        state = dict(cursor or {})
        client = self._imap()
        try:
            folder = client.select_folder(self.settings.folder, readonly=True)
            validity = int(folder[b"UIDVALIDITY"])
            # A new UIDVALIDITY renumbers the folder: read it again (Message-IDs dedupe).
            last = int(state.get("last_uid", 0)) if state.get("uidvalidity") == validity else 0
            uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
            page = uids[: self.settings.page_size]
            fetched = client.fetch(page, [b"BODY.PEEK[]"]) if page else {}
        except IMAPClientError as exc:
            raise ConnectorError(f"the IMAP server refused: {_reason(exc)}") from None
        finally:
            _quietly_logout(client)
        records = []
        for uid in page:
            raw = fetched.get(uid, {}).get(b"BODY[]")
            if isinstance(raw, bytes):
                record = to_record(raw, f"imap-{validity}-{uid}")
                if record is not None:
                    records.append(record)
        new_last = page[-1] if page else last
        return FetchResult(
            records,
            {"uidvalidity": validity, "last_uid": new_last},
            more=len(uids) > self.settings.page_size,
        )

    def _compose(self, reply: OutgoingReply) -> EmailMessage:
        s = self.settings
        context = reply.context
        to = reply.to or str(context.get("reply_to") or "")
        if not ADDRESS.fullmatch(to):
            raise ConnectorError("the reply has no valid recipient address")
        subject = _header(context.get("subject"), 250) or "Your message"
        if not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        domain = s.address.rsplit("@", 1)[1]
        message = EmailMessage()
        message["From"] = formataddr((_header(s.display_name, 100), s.address))
        message["To"] = to
        message["Subject"] = subject
        if reply.idempotency_key:
            key = hashlib.sha256(reply.idempotency_key.encode()).hexdigest()[:32]
            message["Message-ID"] = f"<{key}@{domain}>"
        else:
            message["Message-ID"] = make_msgid(domain=domain)
        parent = reply.in_reply_to if re.fullmatch(r"[^<>\s]{1,250}", reply.in_reply_to) else ""
        if parent:
            references = [r for r in context.get("references", []) if isinstance(r, str)]
            chain = [*_message_ids(" ".join(f"<{r}>" for r in references)), parent]
            message["In-Reply-To"] = f"<{parent}>"
            message["References"] = " ".join(f"<{r}>" for r in chain[-20:])
        message.set_content(reply.text)
        return message

    def send(self, reply: OutgoingReply) -> str:
        """Send the reply by SMTP, threaded under the original; returns its Message-ID."""
        s = self.settings
        message = self._compose(reply)
        check_destination(s.smtp_host, s.smtp_port)
        try:
            smtp: smtplib.SMTP = (
                smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=self.policy.timeout)
                if s.smtp_security == "ssl"
                else smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.policy.timeout)
            )
            with smtp:
                if s.smtp_security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthError(f"the SMTP server refused the login: {_reason(exc)}") from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code in TRY_LATER:
                said = f"the SMTP server said try later: {_reason(exc)}"
                raise RateLimitedError(_later(), said) from None
            raise ConnectorError(f"the SMTP server refused: {_reason(exc)}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise ConnectorError(f"the SMTP server refused the recipient: {exc}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectorError(f"cannot send by SMTP: {_reason(exc)}") from None
        return str(message["Message-ID"]).strip("<>")

    def check(self) -> str:
        """Log in to IMAP and SMTP; say how many messages the folder holds."""
        client = self._imap()
        try:
            count = int(client.select_folder(self.settings.folder, readonly=True)[b"EXISTS"])
        except IMAPClientError as exc:
            raise ConnectorError(f"cannot open {self.settings.folder!r}: {_reason(exc)}") from None
        finally:
            _quietly_logout(client)
        return f"IMAP login as {self.settings.username} works; {self.settings.folder} holds {count}"


def _later() -> datetime:
    return datetime.fromtimestamp(datetime.now(UTC).timestamp() + 300, UTC)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text: object = exc.smtp_error
    else:
        text = exc.args[0] if len(exc.args) == 1 else exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())[:300]


def _quietly_logout(client: IMAPClient) -> None:
    with contextlib.suppress(OSError, IMAPClientError):
        client.logout()


connector_class = EmailConnector
