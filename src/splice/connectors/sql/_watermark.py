"""Where a polling source has got to, and how it moves on only past settled rows.

A position is the last delivered row's ``(watermark, key)``. It is kept in the table
``splice_watermarks`` of the source database (created when missing), under a name made of
the flow, the table and the watermark column, so that a restarted source resumes after the
last row whose delivery was settled. ``Progress`` advances the stored position only past
rows that were all settled, in the order they were read.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections import deque
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["STATE_TABLE", "Progress", "WatermarkTable", "decode", "encode"]

STATE_TABLE = "splice_watermarks"
Position = tuple[Any, Any]

_TYPES: dict[str, Any] = {
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "decimal": decimal.Decimal,
}


def _tagged(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"time": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    return value


def _untagged(value: Any) -> Any:
    if isinstance(value, dict):
        [(tag, text)] = value.items()
        return _TYPES[tag](text)
    return value


def encode(position: Position) -> str:
    return orjson.dumps([_tagged(part) for part in position]).decode()


def decode(text: str) -> Position:
    watermark, key = (_untagged(part) for part in orjson.loads(text))
    return watermark, key


class WatermarkTable:
    """``splice_watermarks(name, position, updated_at)`` in the source database."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.table = _table()

    async def load(self) -> Position | None:
        from sqlalchemy import select

        async with self.engine.begin() as conn:
            await conn.run_sync(lambda sync: self.table.create(sync, checkfirst=True))
            query = select(self.table.c.position).where(self.table.c.name == self.name)
            text = (await conn.execute(query)).scalar_one_or_none()
        return None if text is None else decode(text)

    async def save(self, position: Position) -> None:
        values = {"position": encode(position), "updated_at": dt.datetime.now(dt.UTC)}
        async with self.engine.begin() as conn:
            changed = await conn.execute(
                self.table.update().where(self.table.c.name == self.name).values(**values)
            )
            if changed.rowcount == 0:
                await conn.execute(self.table.insert().values(name=self.name, **values))


def _table() -> Table:
    from sqlalchemy import Column, DateTime, MetaData, String, Table, Text

    return Table(
        STATE_TABLE,
        MetaData(),
        Column("name", String(255), primary_key=True),
        Column("position", Text, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )


class Ticket:
    __slots__ = ("done", "generation", "position")

    def __init__(self, position: Position, generation: int) -> None:
        self.position = position
        self.generation = generation
        self.done = False


class Progress:
    """Rows handed out in order; the committed position moves past contiguous settled rows."""

    def __init__(self, committed: Position | None) -> None:
        self.committed = committed
        self.generation = 0
        self._issued: deque[Ticket] = deque()

    def issue(self, position: Position) -> Ticket:
        ticket = Ticket(position, self.generation)
        self._issued.append(ticket)
        return ticket

    def settle(self, ticket: Ticket) -> Position | None:
        """Mark settled; the new committed position when it moved, else None."""
        if ticket.generation != self.generation:
            return None  # read again since a rewind: that reading settles it
        ticket.done = True
        moved = False
        while self._issued and self._issued[0].done:
            self.committed = self._issued.popleft().position
            moved = True
        return self.committed if moved else None

    def rewind(self) -> Position | None:
        """Forget what was handed out: read again from the committed position."""
        self.generation += 1
        self._issued.clear()
        return self.committed
