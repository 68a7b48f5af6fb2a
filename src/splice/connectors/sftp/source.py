"""``sftp`` source: every file in a remote folder becomes one message, at least once.

Each poll lists the remote folder; a file is claimed by renaming it into
``<path>/.processing/<owner>/`` (a rename is atomic on the server, so two sources never take
the same file), then downloaded whole into memory (no local partial files: an interrupted
download starts again from the beginning). Settling renames the file on the server: ack to
``done/`` (or deletes it), a bad message to ``failed/``, any other failure back to the folder
to be retried at the next poll. While it lives, a source touches its owner folder at every
poll; a source adopts the files of an owner folder untouched for ``reclaim_after`` (a crash).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import os
import posixpath
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.redelivery import RedeliveryIds
from splice.components.spec import ComponentSpec
from splice.connectors.file.source import guess_content_type
from splice.connectors.sftp.connection import SftpConfig, SftpSession, is_connection_error
from splice.errors import MessageError
from splice.message import Message, new_id
from splice.types import Duration

if TYPE_CHECKING:
    import asyncssh

__all__ = ["SPEC", "SftpSource", "SftpSourceConfig"]

log = logging.getLogger(__name__)
PROCESSING = ".processing"


class SftpSourceConfig(SftpConfig):
    pattern: str = Field("*", description="Glob that a file name must match, e.g. `*.csv`.")
    poll_interval: Duration = Field(5.0, gt=0, description="How often the remote folder is listed.")
    on_success: Literal["move", "delete"] = Field(
        "move", description="What happens to a file once delivered: moved to `done/`, or deleted."
    )
    content_type: str | None = Field(
        None, description="Content type of every file; guessed from the extension when unset."
    )
    max_bytes: int = Field(
        64 * 1024 * 1024, gt=0, description="Larger files are moved to `failed/` unread."
    )
    reclaim_after: Duration = Field(
        600.0, gt=0, description="Adopt files claimed by a source silent for this long (a crash)."
    )


SPEC = ComponentSpec(
    kind="source",
    name="sftp",
    summary="Take each file from a folder on an SFTP server, at least once, in name order.",
    config=SftpSourceConfig,
    example=(
        "sftp: {host: sftp.example.com, username: splice, password: '${env:SFTP_PASSWORD}', "
        "path: outbound/orders, pattern: '*.xml'}"
    ),
    factory="splice.connectors.sftp.source:SftpSource",
    description=(
        "Files are claimed by a remote rename into `.processing/`, then moved to `done/` when "
        "every sink confirmed, to `failed/` when the message is bad, or back to the folder "
        "when delivery failed for another reason. Headers: `sftp.name`, `sftp.path`, "
        "`sftp.size`. Needs asyncssh."
    ),
)


class SftpSource(Source):
    def __init__(self, config: SftpSourceConfig, context: Context) -> None:
        self._config = config
        self._session = SftpSession(config, context)
        self._owner = new_id()
        self._claims = self._session.remote(PROCESSING, self._owner)
        self._closed = asyncio.Event()
        self._pending = 0
        self._not_before: dict[str, float] = {}
        self._ids = RedeliveryIds()

    async def open(self) -> None:
        sftp = await self._session.client()
        try:
            for folder in ("done", "failed", PROCESSING):
                await sftp.makedirs(self._session.remote(folder), exist_ok=True)
            await sftp.makedirs(self._claims, exist_ok=True)
        except Exception:
            await self._session.drop()
            raise

    async def deliveries(self) -> AsyncIterator[Delivery]:
        while not self._closed.is_set():
            took = False
            try:
                sftp = await self._session.client()
                for path, name, size in await self._reclaim(sftp):
                    delivery = await self._load(sftp, path, name, size)
                    if delivery is not None:
                        took = True
                        self._pending += 1
                        yield delivery
                for entry in await self._ready(sftp):
                    if self._closed.is_set():
                        return
                    claimed = await self._claim(sftp, entry)
                    if claimed is None:
                        continue
                    delivery = await self._load(sftp, *claimed)
                    if delivery is not None:
                        took = True
                        self._pending += 1
                        yield delivery
            except Exception as error:
                await self._trouble(error)
            if not took:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), self._config.poll_interval)

    async def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            await self._release_when_idle()

    # -- claiming ---------------------------------------------------------------------------

    async def _ready(self, sftp: asyncssh.SFTPClient) -> list[asyncssh.SFTPName]:
        """Files in the remote folder ready to be taken, in name order."""
        import asyncssh

        now = time.monotonic()
        ready = []
        for entry in await sftp.readdir(self._session.remote()):
            name = str(entry.filename)
            if name.startswith(".") or not fnmatch.fnmatch(name, self._config.pattern):
                continue
            if entry.attrs.type != asyncssh.FILEXFER_TYPE_REGULAR:
                continue
            if self._not_before.get(name, 0.0) > now:
                continue
            ready.append(entry)
        return sorted(ready, key=lambda entry: str(entry.filename))

    async def _claim(
        self, sftp: asyncssh.SFTPClient, entry: asyncssh.SFTPName
    ) -> tuple[str, str, int] | None:
        """Rename one file into our claim folder; None when another source was faster."""
        import asyncssh

        name = str(entry.filename)
        target = posixpath.join(self._claims, name)
        try:
            await sftp.rename(self._session.remote(name), target)
        except asyncssh.SFTPError as error:
            if is_connection_error(error):
                raise
            return None
        self._not_before.pop(name, None)
        return target, name, entry.attrs.size or 0

    async def _reclaim(self, sftp: asyncssh.SFTPClient) -> list[tuple[str, str, int]]:
        """Touch our owner folder; adopt the files of owner folders silent too long."""
        import asyncssh

        await sftp.utime(self._claims)
        root = self._session.remote(PROCESSING)
        deadline = time.time() - self._config.reclaim_after
        adopted = []
        for folder in await sftp.readdir(root):
            name = str(folder.filename)
            if (
                name in (".", "..", self._owner)
                or folder.attrs.type != asyncssh.FILEXFER_TYPE_DIRECTORY
            ):
                continue
            if (folder.attrs.mtime or 0) > deadline:
                continue
            orphan = posixpath.join(root, name)
            for entry in await sftp.readdir(orphan):
                file = str(entry.filename)
                if entry.attrs.type != asyncssh.FILEXFER_TYPE_REGULAR:
                    continue
                target = posixpath.join(self._claims, file)
                with contextlib.suppress(asyncssh.SFTPNoSuchFile, asyncssh.SFTPFailure):
                    await sftp.rename(posixpath.join(orphan, file), target)
                    adopted.append((target, file, entry.attrs.size or 0))
            with contextlib.suppress(asyncssh.SFTPError):
                await sftp.rmdir(orphan)
            if adopted:
                log.warning("sftp: reclaimed %d file(s) left in %s", len(adopted), orphan)
        return adopted

    async def _load(
        self, sftp: asyncssh.SFTPClient, path: str, name: str, size: int
    ) -> Delivery | None:
        if size > self._config.max_bytes:
            log.warning("sftp: file '%s' refused: %d bytes, over max_bytes", name, size)
            await self._move(path, "failed", name)
            return None
        async with sftp.open(path, "rb") as handle:
            data = await handle.read()
        body = data if isinstance(data, bytes) else data.encode()
        message = Message(
            id=self._ids.id_for((name, len(body))),
            body=body,
            headers={
                "sftp.name": name,
                "sftp.path": self._session.remote(name),
                "sftp.size": str(len(body)),
            },
            content_type=self._config.content_type or guess_content_type(name),
        )
        return Delivery(message, self._acker(path, name), self._nacker(path, name))

    # -- settling ---------------------------------------------------------------------------

    def _acker(self, path: str, name: str) -> Callable[[Sequence[Message]], Awaitable[None]]:
        async def ack(outputs: Sequence[Message]) -> None:
            if self._config.on_success == "delete":
                await self._settle(self._delete(path))
            else:
                await self._settle(self._move(path, "done", name))

        return ack

    def _nacker(self, path: str, name: str) -> Callable[[BaseException], Awaitable[None]]:
        async def nack(error: BaseException) -> None:
            if isinstance(error, MessageError):
                log.warning("sftp: file '%s' refused: %s", name, error)
                await self._settle(self._move(path, "failed", name))
            else:
                await self._settle(self._give_back(path, name))

        return nack

    async def _settle(self, action: Awaitable[object]) -> None:
        try:
            await action
        except Exception as error:
            await self._trouble(error)
        finally:
            self._pending -= 1
            await self._release_when_idle()

    async def _delete(self, path: str) -> None:
        sftp = await self._session.client()
        await sftp.remove(path)

    async def _give_back(self, path: str, name: str) -> None:
        target = await self._move(path, "", name)
        self._not_before[posixpath.basename(target)] = time.monotonic() + self._config.poll_interval

    async def _move(self, path: str, folder: str, name: str) -> str:
        """Rename without overwriting: a taken name gets a ``.1``, ``.2``... suffix."""
        import asyncssh

        sftp = await self._session.client()
        stem, suffix = os.path.splitext(name)
        for attempt in range(1000):
            candidate = name if attempt == 0 else f"{stem}.{attempt}{suffix}"
            target = (
                self._session.remote(folder, candidate)
                if folder
                else self._session.remote(candidate)
            )
            if await sftp.exists(target):
                continue
            try:
                await sftp.rename(path, target)
                return target
            except (asyncssh.SFTPFailure, asyncssh.SFTPFileAlreadyExists):
                if not await sftp.exists(target):
                    raise
        raise RuntimeError(f"no free name for {name} in {folder or '.'}")

    async def _trouble(self, error: Exception) -> None:
        if is_connection_error(error):
            log.warning("sftp source: connection to %s lost: %s", self._session.where, error)
            await self._session.drop()
        else:
            log.warning("sftp source on %s: %s", self._session.where, error)

    async def _release_when_idle(self) -> None:
        if self._closed.is_set() and self._pending == 0:
            if self._session.connected:
                with contextlib.suppress(Exception):
                    sftp = await self._session.client()
                    await sftp.rmdir(self._claims)  # fails while files are still in it
            await self._session.drop()
