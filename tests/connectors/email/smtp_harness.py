"""A real SMTP server (aiosmtpd) on a loopback port of the test's own event loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from splice.components.context import Context
from splice.components.registry import get
from splice.connectors.email.sink import EmailSink

__all__ = ["Capture", "Received", "SmtpServer", "build"]


@dataclass
class Received:
    sender: str
    recipients: list[str]
    mail: EmailMessage


@dataclass
class Capture:
    """Accepts everything, unless told to answer ``rcpt_reply`` / ``data_reply``."""

    received: list[Received] = field(default_factory=list)
    rcpt_reply: str | None = None
    data_reply: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        content = envelope.original_content or b""
        mail = message_from_bytes(content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), mail))
        return "250 Message accepted"


class SmtpServer:
    def __init__(self, handler: Capture) -> None:
        self.handler = handler
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> SmtpServer:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self.handler, hostname="localhost"), "127.0.0.1", 0
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def build(tmp_path: Path, **raw: Any) -> EmailSink:
    spec = get("sink", "email")
    sink: EmailSink = spec.build(spec.parse(raw), Context(project_dir=tmp_path, flow="mail"))
    return sink
