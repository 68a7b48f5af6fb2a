"""A real IMAP server (pymap, in-memory backend) on a loopback port, and a client to fill it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aioimaplib  # type: ignore[import-untyped]

__all__ = ["ImapServer", "Mailbox", "imap_server", "mail"]

USER, PASSWORD = "demouser", "demopass"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ImapServer:
    port: int

    def config(self, **extra: Any) -> dict[str, Any]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "tls": False,
            "username": USER,
            "password": PASSWORD,
            "poll_interval": 0.05,
            **extra,
        }


@contextlib.contextmanager
def imap_server() -> Iterator[ImapServer]:
    """``pymap dict`` in a child process; every test gets an empty server of its own."""
    port = _free_port()
    script = Path(sys.executable).parent / "pymap"
    command = [str(script), "--host", "127.0.0.1", "--port", str(port), "dict"]
    command += ["--demo-user", USER, "--demo-password", PASSWORD]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            if process.poll() is not None:
                raise RuntimeError(f"pymap exited: {process.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("pymap did not start listening")
        yield ImapServer(port)
    finally:
        process.terminate()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


class Mailbox:
    """A second IMAP client: puts emails in and looks at what the source left behind."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        response = await self.client.append(raw, mailbox=mailbox)
        assert response.result == "OK", response

    async def create(self, mailbox: str) -> None:
        response = await self.client.create(mailbox)
        assert response.result == "OK", response

    async def search(self, criteria: str, mailbox: str = "INBOX") -> list[int]:
        selected = await self.client.select(mailbox)
        assert selected.result == "OK", selected
        response = await self.client.uid_search(criteria)
        assert response.result == "OK", response
        return [int(uid) for uid in bytes(response.lines[0]).split()]

    async def flags(self, uid: int, mailbox: str = "INBOX") -> str:
        await self.client.select(mailbox)
        response = await self.client.uid("fetch", str(uid), "(FLAGS)")
        return " ".join(bytes(line).decode() for line in response.lines[:-1])


@contextlib.asynccontextmanager
async def mailbox(server: ImapServer) -> AsyncIterator[Mailbox]:
    client = aioimaplib.IMAP4(host="127.0.0.1", port=server.port, timeout=10)
    await client.wait_hello_from_server()
    assert (await client.login(USER, PASSWORD)).result == "OK"
    try:
        yield Mailbox(client)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.logout(), 5)
        if client.protocol.transport is not None:  # LOGOUT does not close the socket
            client.protocol.transport.close()


def mail(
    subject: str,
    text: str = "hello",
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    sender: str = "edi@partner.example",
) -> bytes:
    """An email as bytes; each attachment is (file name, content type, data)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "orders@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@partner.example>"
    message.set_content(text)
    for name, content_type, data in attachments:
        main, sub = content_type.split("/")
        message.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return bytes(message)
