"""The file source's ``records`` mode: each record of a file is a message, in constant memory.

A claimed file is read by its codec's ``iter_decode`` (csv rows, JSON lines, XML items, EDI
transaction sets, Avro records) a batch at a time in a worker thread, and each record is
delivered as a decoded message as fast as the flow takes them (``max_in_flight`` bounds
what is held). The file itself is settled once reading ended and every record settled:

* every record acknowledged → ``done/`` (or deleted);
* a record refused (a message error), or the file unreadable past some record (a codec
  error) → ``failed/``, with a ``.error`` note naming the first such record;
* any other failure of a record, or the source closing before the end → back to the inbox,
  read again from the start later (at least once: records already delivered come again).
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationInfo

from splice.codecs import Codec
from splice.components import registry
from splice.components.interfaces import Delivery
from splice.errors import MessageError
from splice.message import Message, new_id

__all__ = ["BATCH", "FileRecords", "RecordReader", "check_records_codec"]

BATCH = 256
Outcome = Literal["finish", "refuse", "give back"]


def check_records_codec(format: str, options: dict[str, Any], info: ValidationInfo) -> None:
    """ValueError (a config error) unless ``format`` is a codec that streams records."""
    from splice.steps.decode import check_codec

    check_codec(format, options, info)
    module, _, name = registry.get("codec", format).factory.partition(":")
    if not getattr(importlib.import_module(module), name).supports_records:
        raise ValueError(
            f"codec '{format}' reads a whole document, not records "
            "(records: csv, jsonl, xml, x12, edifact or avro)"
        )


class RecordReader:
    """The records of one file, a batch at a time (blocking: call it in a worker thread)."""

    def __init__(self, codec: Codec, path: Path) -> None:
        self._file = path.open("rb", buffering=1 << 20)
        self._records = codec.iter_decode(self._file)
        self._error: MessageError | None = None

    def batch(self) -> tuple[list[Any], bool]:
        """The next records, and whether they are the last; the records before an error come
        first, the error (a MessageError) with the next call."""
        if self._error is not None:
            raise self._error
        records: list[Any] = []
        try:
            records.extend(itertools.islice(self._records, BATCH))
        except MessageError as error:
            if not records:
                raise
            self._error = error
            return records, False
        return records, len(records) < BATCH

    def close(self) -> None:
        try:
            getattr(self._records, "close", lambda: None)()
        finally:
            self._file.close()


@dataclass
class FileRecords:
    """Where the records of one claimed file stand."""

    claimed: Path
    name: str
    settle: Callable[[FileRecords], Awaitable[None]]
    open: int = 0
    reading: bool = True
    complete: bool = False
    refusal: tuple[str, str] | None = None
    """(code, reason) of the first record refused, or of the codec error that ended reading."""
    failure: BaseException | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def outcome(self) -> Outcome:
        if self.failure is not None or not (self.complete or self.refusal):
            return "give back"
        return "refuse" if self.refusal else "finish"

    def delivery(self, record: Any, index: int, content_type: str) -> Delivery:
        message = Message(
            id=new_id(),
            body=record,
            headers={**self.headers, "file.record": str(index)},
            content_type=content_type,
        )
        self.open += 1
        return Delivery(message, self._ack, self._nacker(index))

    def refuse(self, code: str, reason: str) -> None:
        if self.refusal is None:
            self.refusal = (code, reason)

    def last_read(self) -> None:
        """The record just delivered was the file's last: the file settles with it."""
        self.complete, self.reading = True, False

    async def ended(self) -> None:
        """Reading is over (the end, an error, or the source closing); a second call is none."""
        if self.reading:
            self.reading = False
            if self.open == 0:
                await self.settle(self)

    async def _ack(self, outputs: Sequence[Message]) -> None:
        await self._settled_one()

    def _nacker(self, index: int) -> Callable[[BaseException], Awaitable[None]]:
        async def nack(error: BaseException) -> None:
            if isinstance(error, MessageError):
                self.refuse(error.code, f"record {index}: {error}")
            elif self.failure is None:
                self.failure = error
            await self._settled_one()

        return nack

    async def _settled_one(self) -> None:
        self.open -= 1
        if self.open == 0 and not self.reading:
            await self.settle(self)
