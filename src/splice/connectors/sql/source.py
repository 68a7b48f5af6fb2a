"""``sql`` source: new rows of a table, found by a watermark column; or PostgreSQL NOTIFY.

**Polling** (``table``): every ``poll_interval`` (or at once after a full batch) the source
reads up to ``batch`` rows past its position, ordered by ``watermark`` (then ``key``), and
hands each row over as a message whose body is the row as JSON-able data. The position is
committed to ``splice_watermarks`` in the source database only past rows whose deliveries
were all settled, in order, so a restart resumes after the last settled row (rows settled
out of order are delivered again: at-least-once). A nack with a transient error rewinds
the reading to the committed position; a nack with a MessageError counts as settled.

The watermark must only grow: an ``id`` from a sequence, or an ``updated_at`` set on every
change. When its values can repeat (timestamps), give a unique ``key`` column as tie-breaker.
A row committed later with a smaller watermark than one already read is not seen.

**Notifications** (``listen``, PostgreSQL only): each ``NOTIFY channel, 'payload'`` becomes a
message with the payload as its body. NOTIFY is at-most-once (nothing is kept while the
source is disconnected). With ``table`` too, a notification only wakes the polling at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator, model_validator

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.spec import ComponentSpec
from splice.connectors.sql._database import (
    SqlConnectionConfig,
    check_identifier,
    check_table,
    create_engine,
    json_value,
    log,
    reflect,
    translate,
)
from splice.connectors.sql._listen import Listener
from splice.connectors.sql._watermark import Position, Progress, Ticket, WatermarkTable
from splice.errors import MessageError, NotConnected, is_transient
from splice.message import Message
from splice.types import Duration

if TYPE_CHECKING:
    from sqlalchemy import Column, Select, Table
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["SPEC", "SqlSource", "SqlSourceConfig"]


class SqlSourceConfig(SqlConnectionConfig):
    table: str | None = Field(None, description="Table to poll (`table` or `schema.table`).")
    watermark: str | None = Field(None, description="Column that grows: `id`, `updated_at`.")
    key: str | None = Field(None, description="Unique tie-breaker when watermarks repeat.")
    columns: list[str] | None = Field(None, description="Columns to read (default: all).")
    poll_interval: Duration = Field(5.0, gt=0, description="Wait between polls with no rows.")
    batch: int = Field(100, ge=1, le=100_000, description="Rows read per poll.")
    listen: str | None = Field(None, description="PostgreSQL channel to LISTEN on.")
    settle_timeout: Duration = Field(
        30.0, ge=0, description="At close, how long to wait for deliveries to be settled."
    )

    @field_validator("table")
    @classmethod
    def _table(cls, value: str | None) -> str | None:
        return None if value is None else check_table(value)

    @field_validator("watermark", "key", "listen")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        return None if value is None else check_identifier(value)

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [check_identifier(c) for c in value]

    @model_validator(mode="after")
    def _mode(self) -> SqlSourceConfig:
        if self.table is None and self.listen is None:
            raise ValueError("give a table to poll, a channel to listen on, or both")
        if self.table is not None and self.watermark is None:
            raise ValueError("polling a table needs its watermark column")
        if self.listen is not None and not self.url.startswith(("postgres", "postgresql")):
            raise ValueError("listen needs PostgreSQL")
        return self


SPEC = ComponentSpec(
    kind="source",
    name="sql",
    summary="New rows of a table by a watermark column, or PostgreSQL notifications.",
    config=SqlSourceConfig,
    example="sql: {url: 'postgresql://app@db/sales', table: orders, watermark: id}",
    factory="splice.connectors.sql.source:SqlSource",
    description=(
        "One message per row, its body the row as data; the position is kept in "
        "`splice_watermarks` in the same database and advances only past settled rows. "
        "See docs/guides/sql.md."
    ),
)


class SqlSource(Source):
    def __init__(self, config: SqlSourceConfig, context: Context) -> None:
        self.config = config
        self.name = f"{context.flow}:{config.table}.{config.watermark}"
        self._engine: AsyncEngine | None = None
        self._table: Table | None = None
        self._state: WatermarkTable | None = None
        self._progress = Progress(None)
        self._cursor: Position | None = None
        self._listener: Listener | None = None
        self._closed = asyncio.Event()
        self._wake = asyncio.Event()
        self._outstanding = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def open(self) -> None:
        if self._engine is not None or self._listener is not None:
            return
        if self.config.listen is not None:
            self._listener = Listener(self.config, self._wake)
            await self._listener.open()
        if self.config.table is not None:
            await self._open_polling()

    async def _open_polling(self) -> None:
        engine = create_engine(self.config)
        state = WatermarkTable(engine, self.name)
        try:
            async with engine.connect() as conn:
                self._table = await conn.run_sync(reflect, self.config.table)
            committed = await state.load()
        except Exception as exc:
            await engine.dispose()
            error = translate(exc, f"sql source: reading {self.config.table}")
            raise (NotConnected(str(error)) if is_transient(error) else error) from exc
        self._engine, self._state = engine, state
        self._progress = Progress(committed)
        self._cursor = committed

    async def close(self) -> None:
        self._closed.set()
        self._wake.set()
        with contextlib.suppress(TimeoutError):  # unsettled rows are read again after a restart
            await asyncio.wait_for(self._idle.wait(), self.config.settle_timeout)
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.close()
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()

    async def deliveries(self) -> AsyncIterator[Delivery]:
        if self._engine is None and self._listener is None:
            raise NotConnected("sql source is not open")
        if self.config.table is None and self._listener is not None:
            async for message in self._listener.messages(self._closed):
                yield Delivery(message)
            return
        while not self._closed.is_set():
            generation = self._progress.generation
            rows = await self._poll()
            for row in rows:
                if self._progress.generation != generation:
                    break  # rewound by a nack: read again from the committed position
                yield self._delivery(row)
            else:
                if len(rows) < self.config.batch:
                    await self._pause()

    async def _pause(self) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)

    async def _poll(self) -> Sequence[dict[str, Any]]:
        assert self._engine is not None
        try:
            async with self._engine.connect() as conn:
                result = await conn.execute(self._query())
                return [dict(row._mapping) for row in result]
        except Exception as exc:
            if not self._closed.is_set():
                log.warning("sql source: %s", translate(exc, "polling"))
            return []

    def _query(self) -> Select[Any]:
        from sqlalchemy import and_, or_, select

        config, table = self.config, self._table
        assert table is not None
        assert config.watermark is not None
        mark_column = table.c[config.watermark]
        order: list[Column[Any]] = [mark_column]
        if config.key:
            order.append(table.c[config.key])
        if config.columns:
            extra = [c for c in order if c.name not in config.columns]
            query = select(*[table.c[c] for c in config.columns], *extra)
        else:
            query = select(table)
        query = query.order_by(*order)
        if self._cursor is not None:
            mark, key = self._cursor
            newer = mark_column > mark
            if config.key is not None:
                newer = or_(newer, and_(mark_column == mark, table.c[config.key] > key))
            query = query.where(newer)
        return query.limit(config.batch)

    def _delivery(self, row: dict[str, Any]) -> Delivery:
        config = self.config
        assert config.watermark is not None
        position = (row[config.watermark], row[config.key] if config.key else None)
        self._cursor = position
        ticket = self._progress.issue(position)
        body = {
            name: json_value(value)
            for name, value in row.items()
            if config.columns is None or name in config.columns
        }
        headers = {"sql.table": str(config.table), "sql.watermark": str(json_value(position[0]))}
        self._outstanding += 1
        self._idle.clear()

        async def ack(outputs: Sequence[Message]) -> None:
            await self._settle(ticket, None)

        async def nack(error: BaseException) -> None:
            await self._settle(ticket, error)

        return Delivery(Message(body=body, headers=headers), ack, nack)

    async def _settle(self, ticket: Ticket, error: BaseException | None) -> None:
        try:
            if error is None or isinstance(error, MessageError):
                moved = self._progress.settle(ticket)
                if moved is not None and self._state is not None:
                    await self._state.save(moved)
            elif ticket.generation == self._progress.generation:
                self._cursor = self._progress.rewind()
        finally:
            self._outstanding -= 1
            if self._outstanding <= 0:
                self._idle.set()
