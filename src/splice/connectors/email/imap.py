"""``imap`` source: each email in a mailbox (or each of its attachments) becomes a message.

Every poll selects the mailbox and searches it (``UNSEEN`` by default); each email found is
fetched with ``BODY.PEEK[]``, which leaves it unseen. Only when every sink confirmed is the
email settled on the server: flagged ``\\Seen`` (``on_success: seen``), moved to another
mailbox (``move``) or deleted and expunged (``delete``). A crash before that leaves the email
as it was, so it is delivered again at the next start: at least once.

``emit`` chooses what a message is:

- ``message``: the whole email as it was received (``message/rfc822``);
- ``text``: its text body (``text/plain``, else ``text/html``), decoded to UTF-8;
- ``attachments``: one message per attachment whose file name matches
  ``attachment_pattern``, with the attachment's content type; the email is settled when
  every one of them was delivered. An email with no such attachment is a bad message.

A bad message (an email over ``max_bytes``, one that cannot be parsed, one with no
matching attachment) is moved to ``failed_to`` when it is set, else flagged ``\\Flagged``
and ``\\Seen`` so it is not taken again. aioimaplib is imported only when the source opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import fnmatch
import logging
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, model_validator

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.redelivery import RedeliveryIds
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import NotConnected
from splice.message import Message
from splice.types import Duration

if TYPE_CHECKING:
    import aioimaplib  # type: ignore[import-untyped]

__all__ = ["SPEC", "ImapSource", "ImapSourceConfig", "parts_of"]

log = logging.getLogger(__name__)

_FETCH_HEAD = re.compile(rb"^\d+ FETCH \(.*?UID (\d+)", re.IGNORECASE)
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
_MAILBOX = re.compile(r"^[^\x00-\x1f\x7f\"\\]+$")
_SEARCH = re.compile(r"^[A-Za-z0-9 ()\"@.:_<>*+-]+$")


class ImapSourceConfig(ComponentConfig):
    host: str = Field(description="IMAP server host name.")
    port: int | None = Field(
        None, ge=1, le=65535, description="Port (default: 993 with `tls`, else 143)."
    )
    tls: bool = Field(True, description="Connect over TLS from the start (IMAPS, port 993).")
    validate_certs: bool = Field(True, description="Check the server's TLS certificate.")
    username: str = Field(description="Login name.")
    password: SecretStr = Field(description="Password, by reference: `${env:NAME}`.")
    mailbox: str = Field("INBOX", description="The mailbox (folder) to read.")
    search: str = Field(
        "UNSEEN",
        description="IMAP SEARCH criteria that select the emails to take, e.g. "
        '`UNSEEN FROM "edi@partner.example"`.',
    )
    emit: Literal["message", "text", "attachments"] = Field(
        "message", description="One message per email (`message`, `text`) or per attachment."
    )
    attachment_pattern: str = Field(
        "*", description="With `emit: attachments`: glob an attachment's file name must match."
    )
    on_success: Literal["seen", "move", "delete"] = Field(
        "seen", description="Once delivered: flag the email `\\Seen`, move it, or delete it."
    )
    move_to: str | None = Field(None, description="With `on_success: move`: the target mailbox.")
    failed_to: str | None = Field(
        None, description="Mailbox for bad emails; unset: they are flagged `\\Flagged \\Seen`."
    )
    poll_interval: Duration = Field(30.0, gt=0, description="How often the mailbox is searched.")
    batch: int = Field(50, ge=1, le=1000, description="At most this many emails per poll.")
    max_bytes: int = Field(
        25 * 1024 * 1024, gt=0, description="Larger emails are bad messages, never downloaded."
    )
    timeout: Duration = Field(30.0, gt=0, description="Timeout of each IMAP command.")

    @model_validator(mode="after")
    def _consistent(self) -> ImapSourceConfig:
        if self.on_success == "move" and not self.move_to:
            raise ValueError("on_success: move needs move_to (the target mailbox)")
        for name in ("mailbox", "move_to", "failed_to"):
            value = getattr(self, name)
            if value is not None and not _MAILBOX.match(value):
                raise ValueError(f"{name}: '{value}' is not a usable mailbox name")
        if not _SEARCH.match(self.search):
            raise ValueError(f"search: '{self.search}' holds characters IMAP SEARCH does not take")
        return self


SPEC = ComponentSpec(
    kind="source",
    name="imap",
    summary="Take each email (or each attachment) from an IMAP mailbox, at least once.",
    config=ImapSourceConfig,
    example=(
        "imap: {host: imap.example.com, username: orders@example.com, "
        "password: '${env:IMAP_PASSWORD}', emit: attachments, attachment_pattern: '*.csv'}"
    ),
    factory="splice.connectors.email.imap:ImapSource",
    description=(
        "Emails are fetched without marking them read and settled on the server only after "
        "every sink confirmed: flagged `\\Seen`, moved (`move_to`) or deleted. Headers: "
        "`email.from`, `email.to`, `email.subject`, `email.message_id`, `email.date`, "
        "`imap.mailbox`, `imap.uid`, `imap.uidvalidity`, and with attachments "
        "`email.attachment`. Needs aioimaplib."
    ),
)


@dataclass
class _Email:
    """One fetched email and the deliveries still open for it."""

    uid: str
    open: int = 0
    failed: bool = False
    ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Part:
    body: bytes
    content_type: str
    filename: str | None = None


class BadEmail(ValueError):
    """The email cannot become messages (the reason is logged, the email set aside)."""


def parts_of(raw: bytes, emit: str, pattern: str = "*") -> tuple[EmailMessage, list[Part]]:
    """The parsed email and the message bodies ``emit`` makes of it."""
    try:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as error:  # the stdlib parser raises a variety on broken input
        raise BadEmail(f"cannot be parsed: {error}") from error
    assert isinstance(parsed, EmailMessage)
    if emit == "message":
        return parsed, [Part(raw, "message/rfc822")]
    if emit == "text":
        body = parsed.get_body(preferencelist=("plain", "html"))
        if body is None:
            raise BadEmail("has no text or HTML body")
        text = _text_of(body)
        return parsed, [Part(text.encode(), f"{body.get_content_type()}; charset=utf-8")]
    parts = []
    for attachment in parsed.iter_attachments():
        name = attachment.get_filename()
        if not name or not fnmatch.fnmatch(name, pattern):
            continue
        payload = attachment.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        parts.append(Part(payload, attachment.get_content_type(), name))
    if not parts:
        raise BadEmail(f"has no attachment matching '{pattern}'")
    return parsed, parts


def _text_of(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError) as error:
        raise BadEmail(f"text body cannot be decoded: {error}") from error


class ImapSource(Source):
    def __init__(self, config: ImapSourceConfig, context: Context) -> None:
        self._config = config
        self._where = f"imap://{config.host}:{self._port}/{config.mailbox}"
        self._client: aioimaplib.IMAP4 | None = None
        self._lock = asyncio.Lock()
        self._closed = asyncio.Event()
        self._uidvalidity = ""
        self._open: dict[str, _Email] = {}
        self._ids = RedeliveryIds()

    @property
    def _port(self) -> int:
        return self._config.port or (993 if self._config.tls else 143)

    async def open(self) -> None:
        async with self._lock:
            await self._connect()

    async def deliveries(self) -> AsyncIterator[Delivery]:
        while not self._closed.is_set():
            took = False
            try:
                for uid in await self._search():
                    if self._closed.is_set():
                        return
                    for delivery in await self._take(uid):
                        took = True
                        yield delivery
            except Exception as error:
                await self._trouble(error)
            if not took:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), self._config.poll_interval)

    async def close(self) -> None:
        """Log out. A delivery settled after this logs in again to settle its email."""
        self._closed.set()
        async with self._lock:
            await self._drop()

    # -- connection -------------------------------------------------------------------------

    async def _connect(self) -> aioimaplib.IMAP4:
        """The logged-in client with the mailbox selected (connecting when needed)."""
        if self._client is not None:
            return self._client
        import aioimaplib

        config = self._config
        if config.tls:
            client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
                host=config.host,
                port=self._port,
                timeout=config.timeout,
                ssl_context=self._tls_context(),
            )
        else:
            client = aioimaplib.IMAP4(host=config.host, port=self._port, timeout=config.timeout)
        try:
            await client.wait_hello_from_server()
            login = await client.login(config.username, config.password.get_secret_value())
        except (OSError, TimeoutError, aioimaplib.Abort) as error:
            await _shut(client, 0.0)
            raise NotConnected(f"cannot connect to {self._where}: {error}") from error
        if login.result != "OK":
            await _shut(client, config.timeout)
            raise NotConnected(f"login to {self._where} refused: {_said(login)}")
        selected = await client.select(config.mailbox)
        if selected.result != "OK":
            await _shut(client, config.timeout)
            raise NotConnected(f"cannot select {config.mailbox}: {_said(selected)}")
        for line in selected.lines:
            found = _UIDVALIDITY.search(bytes(line))
            if found:
                self._uidvalidity = found.group(1).decode()
        self._client = client
        return client

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self._config.validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _shut(client, self._config.timeout)

    async def _command(self, *args: str) -> list[bytes | bytearray]:
        """One UID command (``fetch``, ``store``, ``move``, ``search``...); OK or an error."""
        async with self._lock:
            client = await self._connect()
            if args[0] == "search":
                response = await client.uid_search(*args[1:])
            else:
                response = await client.uid(*args)
        if response.result != "OK":
            raise RuntimeError(f"UID {args[0].upper()} refused: {_said(response)}")
        return list(response.lines)

    async def _trouble(self, error: Exception) -> None:
        log.warning("imap source on %s: %s", self._where, error)
        await self._drop()

    # -- taking -----------------------------------------------------------------------------

    async def _search(self) -> list[str]:
        async with self._lock:
            client = await self._connect()
            await client.noop()  # the server reports changes made by others
        lines = await self._command("search", self._config.search)
        uids = [uid for line in lines[:-1] for uid in bytes(line).decode().split()]
        fresh = [uid for uid in uids if uid.isdigit() and uid not in self._open]
        return sorted(fresh, key=int)[: self._config.batch]

    async def _take(self, uid: str) -> list[Delivery]:
        lines = await self._command("fetch", uid, "(UID RFC822.SIZE)")
        size = _size_of(lines)
        if size is not None and size > self._config.max_bytes:
            await self._set_aside(uid, f"{size} bytes, over max_bytes")
            return []
        lines = await self._command("fetch", uid, "(UID BODY.PEEK[])")
        raw = _literal_of(lines, uid)
        if raw is None:
            return []  # expunged by someone else meanwhile
        try:
            parsed, parts = parts_of(raw, self._config.emit, self._config.attachment_pattern)
        except BadEmail as error:
            await self._set_aside(uid, str(error))
            return []
        headers = self._headers(parsed, uid)
        taken = _Email(uid, open=len(parts))
        self._open[uid] = taken
        deliveries = []
        for index, part in enumerate(parts):
            part_headers = dict(headers)
            if part.filename is not None:
                part_headers["email.attachment"] = part.filename
            message = Message(
                id=self._ids.id_for((self._uidvalidity, uid, index)),
                body=part.body,
                headers=part_headers,
                content_type=part.content_type,
            )
            deliveries.append(Delivery(message, self._acker(taken), self._nacker(taken)))
        return deliveries

    def _headers(self, parsed: EmailMessage, uid: str) -> dict[str, str]:
        headers = {
            "imap.mailbox": self._config.mailbox,
            "imap.uid": uid,
            "imap.uidvalidity": self._uidvalidity,
        }
        for name in ("from", "to", "subject", "message-id", "date"):
            value = parsed.get(name)
            if value is not None:
                headers[f"email.{name.replace('-', '_')}"] = " ".join(str(value).split())
        return headers

    # -- settling ---------------------------------------------------------------------------

    def _acker(self, taken: _Email) -> Callable[[Sequence[Message]], Awaitable[None]]:
        async def ack(outputs: Sequence[Message]) -> None:
            await self._settled(taken, failed=False)

        return ack

    def _nacker(self, taken: _Email) -> Callable[[BaseException], Awaitable[None]]:
        async def nack(error: BaseException) -> None:
            await self._settled(taken, failed=True)

        return nack

    async def _settled(self, taken: _Email, *, failed: bool) -> None:
        taken.open -= 1
        taken.failed = taken.failed or failed
        if taken.open > 0:
            return
        try:
            if not taken.failed:
                await self._done(taken.uid)
        except Exception as error:
            await self._trouble(error)
        finally:
            # a failed email stays as it was: the next poll takes it again
            self._open.pop(taken.uid, None)
            if self._closed.is_set() and not self._open:
                await self._drop()

    async def _done(self, uid: str) -> None:
        config = self._config
        if config.on_success == "seen":
            await self._command("store", uid, "+FLAGS.SILENT", "(\\Seen)")
        elif config.on_success == "move":
            assert config.move_to is not None
            await self._move(uid, config.move_to)
        else:
            await self._command("store", uid, "+FLAGS.SILENT", "(\\Deleted)")
            await self._expunge(uid)

    async def _set_aside(self, uid: str, reason: str) -> None:
        log.warning("imap: email uid %s in %s refused: %s", uid, self._config.mailbox, reason)
        if self._config.failed_to:
            await self._move(uid, self._config.failed_to)
        else:
            await self._command("store", uid, "+FLAGS.SILENT", "(\\Seen \\Flagged)")

    async def _move(self, uid: str, mailbox: str) -> None:
        """MOVE where the server has it, else COPY, flag deleted and expunge that UID."""
        async with self._lock:
            client = await self._connect()
            capabilities = client.protocol.capabilities
        target = _quoted(mailbox)
        if "MOVE" in capabilities:
            await self._command("move", uid, target)
            return
        await self._command("copy", uid, target)
        await self._command("store", uid, "+FLAGS.SILENT", "(\\Deleted)")
        await self._expunge(uid)

    async def _expunge(self, uid: str) -> None:
        async with self._lock:
            client = await self._connect()
            capabilities = client.protocol.capabilities
        if "UIDPLUS" in capabilities:
            await self._command("expunge", uid)
            return
        async with self._lock:
            client = await self._connect()
            await client.expunge()


async def _shut(client: Any, wait: float) -> None:
    """Log out politely, then close the socket whatever the server did."""
    if wait > 0:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.logout(), wait)
    transport = getattr(client.protocol, "transport", None)
    if transport is not None:
        transport.close()


def _said(response: Any) -> str:
    lines = [bytes(line).decode(errors="replace") for line in response.lines]
    return " ".join(line for line in lines if line)[:200] or response.result


def _quoted(mailbox: str) -> str:
    return '"' + mailbox + '"'


def _size_of(lines: Sequence[bytes | bytearray]) -> int | None:
    for line in lines:
        found = re.search(rb"RFC822\.SIZE (\d+)", bytes(line))
        if found:
            return int(found.group(1))
    return None


def _literal_of(lines: Sequence[bytes | bytearray], uid: str) -> bytes | None:
    """The email's bytes in a ``UID FETCH (BODY[])`` response (the literal after its line)."""
    for index, line in enumerate(lines[:-1]):
        head = _FETCH_HEAD.match(bytes(line)) if isinstance(line, bytes) else None
        if head is not None and head.group(1).decode() == uid and bytes(line).endswith(b"}"):
            literal = lines[index + 1]
            return bytes(literal)
    return None
