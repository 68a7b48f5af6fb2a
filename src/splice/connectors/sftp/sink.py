"""``sftp`` sink: each message uploaded to its own remote file, atomically.

The body is written to a hidden temporary name (``.<name>.<random>.tmp``) in the remote
folder, fsynced when the server supports it, then renamed to its final name: a reader never
sees a partial file under the final name. An existing file is never overwritten unless
``overwrite: true``; the new file gets a ``.1``, ``.2``... suffix before its extension.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentSpec
from splice.connectors.file.sink import FileSinkConfig, render_name
from splice.connectors.sftp.connection import SftpConfig, SftpSession, is_connection_error
from splice.errors import MessageError, NotConnected, PermanentError, TransientError
from splice.message import Message

if TYPE_CHECKING:
    import asyncssh

__all__ = ["SPEC", "SftpSink", "SftpSinkConfig"]

MAX_SUFFIX = 1000


class SftpSinkConfig(SftpConfig):
    name: str = Field(
        "{id}{ext}",
        description=(
            "File name template: `{id}`, `{correlation_id}`, `{ext}` (from the content type), "
            "`{date}` (YYYY-MM-DD, UTC), `{time}` (HHMMSS, UTC), `{headers[NAME]}`."
        ),
    )
    overwrite: bool = Field(
        False, description="Replace an existing file (else the new one gets a `.1` suffix)."
    )

    @field_validator("name")
    @classmethod
    def _known_placeholders(cls, template: str) -> str:
        return FileSinkConfig._known_placeholders(template)


SPEC = ComponentSpec(
    kind="sink",
    name="sftp",
    summary="Upload each message as a file to an SFTP server (temporary name, then rename).",
    config=SftpSinkConfig,
    example=(
        "sftp: {host: sftp.example.com, username: splice, password: '${env:SFTP_PASSWORD}', "
        "path: outbox, name: 'order-{headers[order-id]}{ext}'}"
    ),
    factory="splice.connectors.sftp.sink:SftpSink",
    description=(
        "The rendered name must be one plain file name: a name with `/`, `\\`, a leading dot "
        "or a missing header is a message error. The body must be encoded. Needs asyncssh."
    ),
)


class SftpSink(Sink):
    def __init__(self, config: SftpSinkConfig, context: Context) -> None:
        self._config = config
        self._session = SftpSession(config, context)

    async def open(self) -> None:
        sftp = await self._session.client()
        try:
            await sftp.makedirs(self._session.remote(), exist_ok=True)
        except Exception as error:
            raise await self._failure(error, f"cannot create {self._session.remote()}") from error

    async def send(self, message: Message) -> None:
        data = _body(message)
        name = render_name(self._config.name, message)
        sftp = await self._session.client()
        temporary = self._session.remote(f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            try:
                async with sftp.open(temporary, "xb") as handle:
                    await handle.write(data)
                    await _fsync(handle)
                await self._place(sftp, temporary, name)
            except BaseException:
                await _remove_quietly(sftp, temporary)
                raise
        except Exception as error:
            raise await self._failure(error, f"cannot upload {name}") from error

    async def close(self) -> None:
        await self._session.drop()

    async def _place(self, sftp: asyncssh.SFTPClient, temporary: str, name: str) -> None:
        import asyncssh

        if self._config.overwrite:
            await sftp.posix_rename(temporary, self._session.remote(name))
            return
        stem, suffix = os.path.splitext(name)
        for attempt in range(MAX_SUFFIX):
            candidate = name if attempt == 0 else f"{stem}.{attempt}{suffix}"
            target = self._session.remote(candidate)
            if await sftp.exists(target):
                continue
            try:
                await sftp.rename(temporary, target)  # SFTP v3 rename never overwrites
                return
            except (asyncssh.SFTPFailure, asyncssh.SFTPFileAlreadyExists):
                if not await sftp.exists(target):
                    raise
        raise PermanentError(f"no free name for {name} after {MAX_SUFFIX} attempts")

    async def _failure(self, error: Exception, what: str) -> Exception:
        import asyncssh

        if isinstance(error, MessageError | PermanentError | TransientError):
            return error
        if is_connection_error(error):
            await self._session.drop()
            return NotConnected(f"{what} on {self._session.where}: {error}")
        if isinstance(error, asyncssh.SFTPPermissionDenied):
            return PermanentError(f"{what} on {self._session.where}: {error}")
        return TransientError(f"{what} on {self._session.where}: {error}")


def _body(message: Message) -> bytes:
    if isinstance(message.body, str):
        return message.body.encode()
    if not message.is_encoded:
        raise MessageError("the sftp sink needs an encoded body: add an 'encode' step before it")
    return message.body_bytes()


async def _fsync(handle: asyncssh.SFTPClientFile) -> None:
    import asyncssh

    # without fsync@openssh.com on the server, closing the file is all it offers
    with contextlib.suppress(asyncssh.SFTPOpUnsupported):
        await handle.fsync()


async def _remove_quietly(sftp: asyncssh.SFTPClient, path: str) -> None:
    import asyncssh

    with contextlib.suppress(OSError, asyncssh.Error):
        await sftp.remove(path)
