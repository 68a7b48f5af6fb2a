"""``file`` source: every file dropped into a folder becomes one message, at least once.

A file is claimed by renaming it into ``<path>/.processing/<owner>/`` (a rename is atomic,
so two sources on one folder never take the same file). ``<owner>`` is this source's own
folder, held by an exclusive ``flock`` on ``<owner>.lock`` for as long as the source lives;
the lock dies with its process, so on start a source adopts the files of every owner folder
whose lock it can take (a crash) and delivers them again. Settling moves the file out:
ack to ``done/`` (or deletes it), a bad message to ``failed/`` with a ``.error`` sidecar,
any other failure back to the inbox to be retried. A move never overwrites: a name already
taken gets a ``.1``, ``.2``... suffix before its extension.

With ``records: <codec>`` each record of a file is its own decoded message, read in
constant memory, and the file is settled once all of them are (see ``_records``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import fnmatch
import itertools
import logging
import os
import shutil
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationInfo, model_validator

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.redelivery import RedeliveryIds
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.connectors.file._records import FileRecords, RecordReader, check_records_codec
from splice.errors import MessageError
from splice.message import Message, new_id
from splice.types import Duration

__all__ = ["SPEC", "FileSource", "FileSourceConfig", "guess_content_type"]

log = logging.getLogger(__name__)
T = TypeVar("T")

CONTENT_TYPES = {
    ".json": "application/json",
    ".xml": "application/xml",
    ".csv": "text/csv",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".txt": "text/plain",
}


class FileSourceConfig(ComponentConfig):
    path: str = Field(description="Inbox folder, relative to the project folder.")
    pattern: str = Field("*", description="Glob that a file name must match, e.g. `*.csv`.")
    poll_interval: Duration = Field(1.0, description="How often an idle inbox is scanned.")
    done: str | None = Field(None, description="Folder for processed files; `<path>/done`.")
    failed: str | None = Field(None, description="Folder for refused files; `<path>/failed`.")
    on_success: Literal["move", "delete"] = Field(
        "move", description="What happens to a file once delivered: moved to `done`, or deleted."
    )
    min_age: Duration = Field(
        0.0, description="Skip files modified more recently than this (still being written)."
    )
    content_type: str | None = Field(
        None, description="Content type of every file; guessed from the extension when unset."
    )
    max_bytes: int = Field(
        64 * 1024 * 1024, gt=0, description="Larger files go to `failed` with a `.error` note."
    )
    records: str | None = Field(
        None,
        description="Deliver each record of a file as its own decoded message, read in "
        "constant memory with this codec (csv, jsonl, xml, x12, edifact, avro); the file is "
        "settled once every record is, and `max_bytes` does not apply.",
    )
    records_options: dict[str, Any] = Field(
        default_factory=dict, description="Options of the `records` codec."
    )

    @model_validator(mode="after")
    def _records_codec(self, info: ValidationInfo) -> FileSourceConfig:
        if self.records is not None:
            check_records_codec(self.records, self.records_options, info)
        elif self.records_options:
            raise ValueError("'records_options' needs 'records'")
        return self


SPEC = ComponentSpec(
    kind="source",
    name="file",
    summary="Take each file dropped into a folder, at least once, in name order.",
    config=FileSourceConfig,
    example="file: {path: inbox/orders, pattern: '*.json', min_age: 2s}",
    factory="splice.connectors.file.source:FileSource",
    shorthand="path",
    description=(
        "Files are claimed atomically into `.processing/`, then moved to `done/` when every "
        "sink confirmed, to `failed/` with a `<name>.error` note when the message is bad, or "
        "back to the inbox when delivery failed for another reason. Files left in "
        "`.processing/` by a crash are delivered again on start. Headers: `file.name`, "
        "`file.path`, `file.size`, `file.mtime`."
    ),
)


def guess_content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


class FileSource(Source):
    def __init__(self, config: FileSourceConfig, context: Context) -> None:
        self._config = config
        self._inbox = context.resolve_path(config.path)
        self._done = context.resolve_path(config.done) if config.done else self._inbox / "done"
        self._failed = (
            context.resolve_path(config.failed) if config.failed else self._inbox / "failed"
        )
        self._claims = _ClaimFolder(self._inbox / ".processing")
        self._reclaimed: list[Path] = []
        self._closed = asyncio.Event()
        self._pending = 0
        self._not_before: dict[str, float] = {}
        self._ids = RedeliveryIds()
        """A file given back and claimed again keeps its message id (poison detection)."""
        self._codec = None
        if config.records is not None:
            from splice.steps.decode import build_codec

            self._codec = build_codec(config.records, config.records_options, context)

    async def open(self) -> None:
        self._reclaimed = await asyncio.to_thread(self._prepare)

    def _prepare(self) -> list[Path]:
        for folder in (self._inbox, self._done, self._failed):
            folder.mkdir(parents=True, exist_ok=True)
        self._claims.acquire()
        return self._claims.reclaim()

    async def deliveries(self) -> AsyncIterator[Delivery]:
        for path in self._reclaimed:
            if self._closed.is_set():
                return
            async with contextlib.aclosing(self._deliver(path, path.name)) as file:
                async for delivery in file:
                    yield delivery
        while not self._closed.is_set():
            took = False
            for name in await _attempt(self._scan) or []:
                if self._closed.is_set():
                    return
                claimed = await _attempt(self._take, name)
                if claimed is not None:
                    took = True
                    async with contextlib.aclosing(self._deliver(claimed, name)) as file:
                        async for delivery in file:
                            yield delivery
            if not took:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), self._config.poll_interval)

    async def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            await self._release_when_idle()

    # -- claiming (in a worker thread) ------------------------------------------------------

    def _scan(self) -> list[str]:
        """Names in the inbox ready to be taken, in name order."""
        now, monotonic = time.time(), time.monotonic()
        names = []
        with os.scandir(self._inbox) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith(".") or not fnmatch.fnmatch(name, self._config.pattern):
                    continue
                if self._not_before.get(name, 0.0) > monotonic:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    if entry.is_file(follow_symlinks=False) and (
                        now - entry.stat().st_mtime >= self._config.min_age
                    ):
                        names.append(name)
        return sorted(names)

    def _take(self, name: str) -> Path | None:
        """Claim one file by renaming it; None when another source was faster."""
        target = _free_name(self._claims.folder, name)
        try:
            os.rename(self._inbox / name, target)
        except FileNotFoundError:
            return None
        self._not_before.pop(name, None)
        return target

    async def _deliver(self, claimed: Path, name: str) -> AsyncGenerator[Delivery, None]:
        if self._codec is not None:
            async with contextlib.aclosing(self._deliver_records(claimed, name)) as records:
                async for delivery in records:
                    yield delivery
            return
        whole = await _attempt(self._load, claimed, name)
        if whole is not None:
            self._pending += 1
            yield whole

    def _load(self, claimed: Path, name: str) -> Delivery | None:
        stat = claimed.stat()
        if stat.st_size > self._config.max_bytes:
            self._refuse(claimed, name, f"file is {stat.st_size} bytes, over max_bytes")
            return None
        message = Message(
            id=self._ids.id_for((name, stat.st_size, stat.st_mtime_ns)),
            body=claimed.read_bytes(),
            headers=self._headers(name, stat),
            content_type=self._config.content_type or guess_content_type(name),
        )
        return Delivery(message, self._acker(claimed, name), self._nacker(claimed, name))

    def _headers(self, name: str, stat: os.stat_result) -> dict[str, str]:
        return {
            "file.name": name,
            "file.path": str(self._inbox / name),
            "file.size": str(stat.st_size),
            "file.mtime": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
        }

    async def _deliver_records(self, claimed: Path, name: str) -> AsyncGenerator[Delivery, None]:
        """One delivery per record; the file is settled by ``_settle_records`` once all are."""
        assert self._codec is not None
        records = FileRecords(claimed, name, self._settle_records)
        self._pending += 1
        reader: RecordReader | None = None
        index = 0
        try:
            records.headers = self._headers(name, await asyncio.to_thread(claimed.stat))
            reader = await asyncio.to_thread(RecordReader, self._codec, claimed)
            while records.failure is None and not self._closed.is_set():
                batch, last = await asyncio.to_thread(reader.batch)
                for position, record in enumerate(batch, start=1):
                    if self._closed.is_set():
                        return  # the file goes back, to be read again
                    delivery = records.delivery(record, index, self._codec.content_type)
                    index += 1
                    if last and position == len(batch):
                        records.last_read()
                    yield delivery
                if last:
                    records.complete = True
                    return
        except MessageError as error:  # the codec cannot read past some record
            records.refuse(error.code, str(error))
        except OSError as error:
            log.warning("file source: %s", error)
            records.failure = error
        finally:
            if reader is not None:
                await asyncio.to_thread(reader.close)
            await records.ended()

    async def _settle_records(self, records: FileRecords) -> None:
        outcome, claimed, name = records.outcome(), records.claimed, records.name
        if outcome == "refuse" and records.refusal is not None:
            code, reason = records.refusal
            await self._settle(lambda c, n: self._refuse(c, n, reason, code), claimed, name)
        else:
            action = self._finish if outcome == "finish" else self._give_back
            await self._settle(action, claimed, name)

    def _refuse(self, claimed: Path, name: str, reason: str, code: str = "file-too-large") -> None:
        target = _move_unique(claimed, self._failed, name)
        target.with_name(target.name + ".error").write_text(f"{code}: {reason}\n")
        log.warning("file '%s' refused: %s", name, reason)

    # -- settling ---------------------------------------------------------------------------

    def _acker(self, claimed: Path, name: str) -> Callable[[Sequence[Message]], Awaitable[None]]:
        async def ack(outputs: Sequence[Message]) -> None:
            await self._settle(self._finish, claimed, name)

        return ack

    def _nacker(self, claimed: Path, name: str) -> Callable[[BaseException], Awaitable[None]]:
        async def nack(error: BaseException) -> None:
            if isinstance(error, MessageError):
                reason, code = str(error), error.code
                await self._settle(lambda c, n: self._refuse(c, n, reason, code), claimed, name)
            else:
                await self._settle(self._give_back, claimed, name)

        return nack

    async def _settle(self, action: Callable[[Path, str], None], claimed: Path, name: str) -> None:
        try:
            await asyncio.to_thread(action, claimed, name)
        except FileNotFoundError:
            log.warning("file '%s' was gone from %s when settled", name, claimed.parent)
        finally:
            self._pending -= 1
            await self._release_when_idle()

    def _finish(self, claimed: Path, name: str) -> None:
        if self._config.on_success == "delete":
            claimed.unlink()
        else:
            _move_unique(claimed, self._done, name)

    def _give_back(self, claimed: Path, name: str) -> None:
        target = _move_unique(claimed, self._inbox, name)
        self._not_before[target.name] = time.monotonic() + self._config.poll_interval

    async def _release_when_idle(self) -> None:
        if self._closed.is_set() and self._pending == 0:
            await asyncio.to_thread(self._claims.release)


async def _attempt(work: Callable[..., T], *args: Any) -> T | None:
    """Run file work in a thread; a file system error is logged and the source goes on."""
    try:
        return await asyncio.to_thread(work, *args)
    except OSError as error:
        log.warning("file source: %s", error)
        return None


class _ClaimFolder:
    """This source's folder under ``.processing/``, owned through a lock on ``<id>.lock``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / new_id()
        self._lock: int | None = None

    def acquire(self) -> None:
        self.root.mkdir(exist_ok=True)
        self.folder.mkdir(exist_ok=True)
        self._lock = _try_lock(self.root / f"{self.folder.name}.lock")
        if self._lock is None:  # pragma: no cover - a fresh ULID is never locked
            raise RuntimeError(f"cannot lock {self.folder}")

    def reclaim(self) -> list[Path]:
        """Adopt the files of crashed owners (and loose files); returns them in name order."""
        adopted: list[Path] = []
        for entry in sorted(self.root.iterdir()):
            if entry.is_file() and entry.suffix != ".lock":
                adopted.append(_move_unique(entry, self.folder))
            elif entry.is_dir() and entry != self.folder:
                adopted.extend(self._adopt_orphan(entry))
        return sorted(adopted, key=lambda path: path.name)

    def _adopt_orphan(self, folder: Path) -> list[Path]:
        lock_path = self.root / f"{folder.name}.lock"
        lock = _try_lock(lock_path)
        if lock is None:
            return []  # its owner is alive
        try:
            adopted = [_move_unique(path, self.folder) for path in sorted(folder.iterdir())]
            folder.rmdir()
            lock_path.unlink(missing_ok=True)
        except FileNotFoundError:
            return []
        finally:
            os.close(lock)
        log.warning("reclaimed %d file(s) left in %s by a crash", len(adopted), folder)
        return adopted

    def release(self) -> None:
        """Remove the (empty) folder and drop the lock; files still in it are kept."""
        if self._lock is None:
            return
        with contextlib.suppress(OSError):
            self.folder.rmdir()
        if not self.folder.exists():
            (self.root / f"{self.folder.name}.lock").unlink(missing_ok=True)
        os.close(self._lock)
        self._lock = None


def _try_lock(path: Path) -> int | None:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def _candidates(name: str) -> Iterator[str]:
    stem, suffix = os.path.splitext(name)
    return itertools.chain([name], (f"{stem}.{n}{suffix}" for n in itertools.count(1)))


def _free_name(folder: Path, name: str) -> Path:
    """The first free name in a folder only this source adds to."""
    return next(folder / c for c in _candidates(name) if not (folder / c).exists())


def _move_unique(source: Path, folder: Path, name: str | None = None) -> Path:
    """Move without ever overwriting: a hard link fails when the name is taken."""
    for candidate in _candidates(name or source.name):
        target = folder / candidate
        try:
            os.link(source, target)
        except FileExistsError:
            continue
        except FileNotFoundError:
            raise
        except OSError:  # another file system, or no hard links: check, then move
            if target.exists():
                continue
            shutil.move(source, target)
            return target
        source.unlink()
        return target
    raise AssertionError("unreachable")  # pragma: no cover
