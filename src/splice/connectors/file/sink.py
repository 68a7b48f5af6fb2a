"""``file`` sink: each message written to its own file atomically, or appended to one file.

``write`` writes a hidden temporary file (``.<name>.<random>.tmp``) in the target folder,
flushes and fsyncs it, then links it into place: a reader never sees a partial file. An
existing file is never overwritten unless ``overwrite: true``; the new file gets a ``.1``,
``.2``... suffix before its extension instead, so a redelivered message is never lost.
``append`` writes each message with one ``write`` on an ``O_APPEND`` descriptor, serialized
per file across every flow of the engine, and fsyncs it. ``fsync: false`` skips the fsyncs
(a bulk append of many small records): the data is in the operating system's hands when
``send`` returns, safe from a crash of splice but not from a power cut.

The body must be encoded (bytes, or text written as UTF-8): a decoded body is a
MessageError asking for an ``encode`` step, so the format is never guessed.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import MessageError, PermanentError, TransientError
from splice.message import Message

__all__ = ["SPEC", "FileSink", "FileSinkConfig", "extension_for", "render_name"]

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
FIELDS = ("id", "correlation_id", "ext", "date", "time")
HEADER = re.compile(r"headers\[([^\]]+)\]")


class FileSinkConfig(ComponentConfig):
    path: str = Field(description="Folder to write into, relative to the project folder.")
    name: str = Field(
        "{id}{ext}",
        description=(
            "File name template: `{id}`, `{correlation_id}`, `{ext}` (from the content type), "
            "`{date}` (YYYY-MM-DD, UTC), `{time}` (HHMMSS, UTC), `{headers[NAME]}`."
        ),
    )
    mode: Literal["write", "append"] = Field(
        "write", description="`write`: one file per message; `append`: add to the named file."
    )
    overwrite: bool = Field(
        False, description="Replace an existing file (else the new one gets a `.1` suffix)."
    )
    newline: bool = Field(True, description="In append mode, end each record with a newline.")
    fsync: bool = Field(
        True,
        description="Flush each file to disk before confirming; `false` for bulk appends "
        "(safe from a splice crash, not from a power cut).",
    )

    @field_validator("name")
    @classmethod
    def _known_placeholders(cls, template: str) -> str:
        for match in PLACEHOLDER.finditer(template):
            field = match.group(1)
            if field not in FIELDS and not HEADER.fullmatch(field):
                raise ValueError(
                    f"unknown placeholder {{{field}}} (valid: {', '.join(FIELDS)}, headers[NAME])"
                )
        return template


SPEC = ComponentSpec(
    kind="sink",
    name="file",
    summary="Write each message to a file in a folder (atomically), or append it to one file.",
    config=FileSinkConfig,
    example="file: {path: outbox/erp, name: 'order-{headers[order-id]}{ext}'}",
    factory="splice.connectors.file.sink:FileSink",
    shorthand="path",
    description=(
        "The rendered name must be one plain file name: a name with `/`, `\\`, a leading dot "
        "or a missing header is a message error. The body must be encoded: add an `encode` "
        "step before a file sink when the flow decoded it."
    ),
)


class _AppendLocks:
    """One lock per appended file, shared by every flow of the engine."""

    def __init__(self) -> None:
        self._locks: dict[Path, asyncio.Lock] = {}

    def for_path(self, path: Path) -> asyncio.Lock:
        return self._locks.setdefault(path, asyncio.Lock())


class FileSink(Sink):
    def __init__(self, config: FileSinkConfig, context: Context) -> None:
        self._config = config
        self._folder = context.resolve_path(config.path).resolve()
        self._locks = context.shared.get("file.append-locks", _AppendLocks)

    async def open(self) -> None:
        try:
            await asyncio.to_thread(self._folder.mkdir, parents=True, exist_ok=True)
        except OSError as error:
            raise PermanentError(f"cannot create folder {self._folder}: {error}") from error

    async def send(self, message: Message) -> None:
        data = _body(message)
        target = self._folder / render_name(self._config.name, message)
        try:
            if self._config.mode == "append":
                if self._config.newline and not data.endswith(b"\n"):
                    data += b"\n"
                async with self._locks.for_path(target):
                    await asyncio.to_thread(_append, target, data, self._config.fsync)
            else:
                await asyncio.to_thread(
                    _write_atomically, target, data, self._config.overwrite, self._config.fsync
                )
        except PermissionError as error:
            raise PermanentError(f"cannot write {target}: {error}") from error
        except OSError as error:
            raise TransientError(f"cannot write {target}: {error}") from error


def _body(message: Message) -> bytes:
    if isinstance(message.body, str):
        return message.body.encode()
    if not message.is_encoded:
        raise MessageError("the file sink needs an encoded body: add an 'encode' step before it")
    return message.body_bytes()


def extension_for(content_type: str | None) -> str:
    kind = (content_type or "").split(";")[0].strip().lower()
    for marker, extension in (
        ("json", ".json"),
        ("xml", ".xml"),
        ("csv", ".csv"),
        ("yaml", ".yaml"),
    ):
        if marker in kind:
            return extension
    return ".txt" if kind.startswith("text/") else ".bin"


def render_name(template: str, message: Message) -> str:
    """The file name for a message: one plain name, never a path (else a MessageError)."""
    now = datetime.now(UTC)
    values = {
        "id": message.id,
        "correlation_id": message.correlation_id,
        "ext": extension_for(message.content_type),
        "date": now.strftime("%Y-%m-%d"),
        "time": now.strftime("%H%M%S"),
    }

    def value(match: re.Match[str]) -> str:
        field = match.group(1)
        header = HEADER.fullmatch(field)
        if header is None:
            return values[field]
        if header.group(1) not in message.headers:
            raise MessageError(
                f"file name needs header '{header.group(1)}', which is missing",
                field=f"headers[{header.group(1)}]",
            )
        return message.headers[header.group(1)]

    name = PLACEHOLDER.sub(value, template)
    _check_safe(name)
    return name


def _check_safe(name: str) -> None:
    if not name or name.startswith(".") or any(c in name for c in "/\\\0"):
        raise MessageError(
            f"unsafe file name {name!r}: it must be one plain file name, "
            "without '/', '\\', a leading dot or NUL",
            code="unsafe-file-name",
        )
    if len(name.encode()) > 255:
        raise MessageError(
            f"file name too long ({len(name.encode())} bytes)", code="unsafe-file-name"
        )


def _write_atomically(target: Path, data: bytes, overwrite: bool, sync: bool = True) -> None:
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, target)
        else:
            _link_unique(temporary, target)
        if sync:
            _sync_folder(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _link_unique(temporary: Path, target: Path) -> None:
    """Put the file in place under the first free name: a hard link never replaces."""
    stem, suffix = os.path.splitext(target.name)
    attempt, candidate = 0, target
    while True:
        try:
            os.link(temporary, candidate)
            return
        except FileExistsError:
            attempt += 1
            candidate = target.with_name(f"{stem}.{attempt}{suffix}")


def _append(target: Path, data: bytes, sync: bool = True) -> None:
    descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        if sync:
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
