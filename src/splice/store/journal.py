"""The inbound journal, for sources that cannot redeliver.

An HTTP request answered ``202 Accepted`` or a file moved away cannot be asked for again:
such a source appends the message here before it acknowledges, and completes the entry once
every sink confirmed (or the message was dead-lettered). On start, the runtime resumes the
entries still pending, in the order they were appended. :meth:`Journal.append` is one
``INSERT`` in one transaction: it is on the hot path.

Under ``splice run --workers N`` each worker process holds a journal opened for its worker
number: it tags what it appends, and :meth:`Journal.pending` gives it only its own entries
(worker 0 also takes the untagged ones and those of worker numbers no longer running), so a
restarted worker never resumes a message another worker still has in flight.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from splice.message import Message
from splice.store._engine import Database
from splice.store.codec import decode_message, encode_message
from splice.store.schema import journal as table

__all__ = ["Journal"]

_APPEND = table.insert().returning(table.c.id)


class Journal:
    """Messages accepted but not yet fully delivered, per flow."""

    def __init__(self, database: Database, *, worker: int | None = None, workers: int = 1) -> None:
        self._db = database
        self.worker = worker
        """This process's worker number (None: the only process)."""
        self.workers = workers

    async def append(self, flow: str, message: Message) -> int:
        """Store ``message`` durably (committed on return); returns its entry id."""
        values = {"flow": flow, "appended_at": datetime.now(UTC), **encode_message(message)}
        if self.worker is not None:
            values["worker"] = self.worker
        async with self._db.single("journal append") as conn:
            return int((await conn.execute(_APPEND, values)).scalar_one())

    async def complete(self, entry_id: int) -> None:
        """The entry is fully delivered: forget it. Completing twice is harmless."""
        async with self._db.single("journal complete") as conn:
            await conn.execute(delete(table).where(table.c.id == entry_id))

    async def pending(self, flow: str) -> list[tuple[int, Message]]:
        """Entries of ``flow`` not completed yet and this worker's to resume, oldest first."""
        query = select(table).where(table.c.flow == flow).order_by(table.c.id)
        if self.worker is not None:
            query = query.where(self._mine())
        async with self._db.single("journal pending") as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [(int(row["id"]), decode_message(row)) for row in rows]

    def _mine(self) -> ColumnElement[bool]:
        mine = table.c.worker == self.worker
        if self.worker != 0:
            return mine
        return or_(mine, table.c.worker.is_(None), table.c.worker >= self.workers)

    async def count_pending(self, flow: str) -> int:
        query = select(func.count()).select_from(table).where(table.c.flow == flow)
        async with self._db.single("journal count") as conn:
            return int((await conn.execute(query)).scalar_one())
