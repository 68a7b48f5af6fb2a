"""A real asyncssh SFTP server on loopback, rooted in a temporary folder (password login)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

USER = "splice"
PASSWORD = "correct horse"


CLIENT_KEY = asyncssh.generate_private_key("ssh-ed25519")


class _Server(asyncssh.SSHServer):
    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return username == USER and key.public_data == CLIENT_KEY.public_data

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == PASSWORD


class _Recording(asyncssh.SFTPServer):
    """Records every file opened for writing and every rename, as paths under the root."""

    def __init__(self, chan: asyncssh.SSHServerChannel[bytes], root: Path, events: list[str]):
        super().__init__(chan, chroot=str(root).encode())
        self._events = events

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        if pflags & asyncssh.FXF_WRITE:
            self._events.append(f"write {path.decode()}")
        return super().open(path, pflags, attrs)

    def rename(self, oldpath: bytes, newpath: bytes) -> object:
        self._events.append(f"rename {oldpath.decode()} {newpath.decode()}")
        return super().rename(oldpath, newpath)


@dataclass
class SftpServer:
    root: Path
    port: int
    host_key: asyncssh.SSHKey
    events: list[str] = field(default_factory=list)

    def config(self, **extra: Any) -> dict[str, Any]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "username": USER,
            "password": PASSWORD,
            "known_hosts": None,
            "path": "box",
            **extra,
        }

    def known_hosts_line(self) -> str:
        public = self.host_key.export_public_key().decode().strip()
        return f"[127.0.0.1]:{self.port} {public}\n"


@asynccontextmanager
async def sftp_server(root: Path) -> AsyncIterator[SftpServer]:
    await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")

    events: list[str] = []

    def sftp_factory(chan: asyncssh.SSHServerChannel[bytes]) -> asyncssh.SFTPServer:
        return _Recording(chan, root, events)

    acceptor = await asyncssh.create_server(
        _Server,
        "127.0.0.1",
        0,
        server_host_keys=[key],
        sftp_factory=sftp_factory,
    )
    port = acceptor.sockets[0].getsockname()[1]
    try:
        yield SftpServer(root, port, key, events)
    finally:
        acceptor.close()
        await acceptor.wait_closed()
