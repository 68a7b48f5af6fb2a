"""The dead-letter queue: messages that a flow could not deliver, with the reason.

A dead letter is keyed by ``(flow, message id)``: when the same message fails again (after
a replay, or from another worker) its record is updated — last failure time, error, the
attempt history appended — instead of duplicated. Error text is stored as given: the
caller masks secrets before calling :meth:`DeadLetterQueue.add`.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from splice.message import Message, new_id
from splice.store._engine import Database
from splice.store._upsert import insert_ignoring_conflict
from splice.store.codec import MESSAGE_FIELDS, decode_message, encode_message
from splice.store.errors import NotFound
from splice.store.schema import dead_letters as table

__all__ = ["DeadLetter", "DeadLetterQueue", "DeadLetterStatus"]

DeadLetterStatus = Literal["pending", "replayed", "purged"]


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter, as stored. :meth:`message` rebuilds the message to replay."""

    id: str
    flow: str
    flow_version: str | None
    step: str
    error_class: str
    error_code: str
    error_message: str
    message_id: str
    correlation_id: str
    content_type: str | None
    attempts: list[dict[str, Any]]
    """The attempt history of every failure, oldest first."""
    failure_count: int
    first_failure_at: datetime
    last_failure_at: datetime
    status: DeadLetterStatus
    replay_count: int
    last_replayed_at: datetime | None
    payload_edited_at: datetime | None
    purged_at: datetime | None
    _stored: Mapping[str, Any] = field(repr=False, compare=False)

    def message(self) -> Message:
        """A fresh copy of the dead message (with its payload edits), ready to replay."""
        return decode_message(self._stored)


class DeadLetterQueue:
    """Dead letters of every flow in the store."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self,
        *,
        flow: str,
        flow_version: str | None,
        step: str,
        error_class: str,
        error_code: str,
        error_message: str,
        message: Message,
        attempts: builtins.list[dict[str, Any]],
    ) -> str:
        """Record that ``message`` failed in ``flow``; returns the dead letter id."""
        now = datetime.now(UTC)
        latest = {
            "flow_version": flow_version,
            "step": step,
            "error_class": error_class,
            "error_code": error_code,
            "error_message": error_message,
            "last_failure_at": now,
            "status": "pending",
            "purged_at": None,
            **encode_message(message),
        }
        first = {"flow": flow, "failures": attempts, "failure_count": 1}
        first |= {"first_failure_at": now, "replay_count": 0}
        async with self._db.write("dead letter add") as conn:
            new = insert_ignoring_conflict(
                conn, table, {"id": new_id(), **first, **latest}, ["flow", "message_id"]
            ).returning(table.c.id)
            inserted = (await conn.execute(new)).scalar_one_or_none()
            if inserted is not None:
                return str(inserted)
            return await _add_failure(conn, flow, message.id, attempts, latest)

    async def list(
        self,
        flow: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        *,
        status: DeadLetterStatus | None = None,
    ) -> builtins.list[DeadLetter]:
        """Newest failures first; purged ones only when asked for with ``status``."""
        query = select(table).where(*_filters(flow, status), *_since(since))
        query = query.order_by(table.c.last_failure_at.desc(), table.c.id.desc()).limit(limit)
        async with self._db.single("dead letter list") as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_dead_letter(row) for row in rows]

    async def get(self, id: str) -> DeadLetter | None:
        async with self._db.single("dead letter get") as conn:
            row = (await conn.execute(select(table).where(table.c.id == id))).mappings().first()
        return _dead_letter(row) if row is not None else None

    async def update_payload(self, id: str, body: bytes, content_type: str | None) -> None:
        """Replace the body of a dead letter (fixing it before a replay)."""
        values: dict[str, Any] = {"body_kind": "bytes", "body": bytes(body), "data": None}
        values |= {"content_type": content_type, "payload_edited_at": datetime.now(UTC)}
        await self._update(id, "dead letter update payload", values)

    async def mark_replayed(self, id: str) -> None:
        """Count one replay of the dead letter and remember when it happened."""
        values = {"status": "replayed", "last_replayed_at": datetime.now(UTC)}
        values |= {"replay_count": table.c.replay_count + 1}
        await self._update(id, "dead letter mark replayed", values)

    async def purge(self, flow: str | None = None) -> int:
        """Mark dead letters purged and drop their payload; returns how many."""
        values = {"status": "purged", "purged_at": datetime.now(UTC)}
        values |= {"body_kind": "bytes", "body": b"", "data": None}
        query = update(table).where(*_filters(flow, None)).values(values)
        async with self._db.single("dead letter purge") as conn:
            return (await conn.execute(query)).rowcount

    async def count(self, flow: str | None = None) -> int:
        """How many dead letters are not purged."""
        query = select(func.count()).select_from(table).where(*_filters(flow, None))
        async with self._db.single("dead letter count") as conn:
            return int((await conn.execute(query)).scalar_one())

    async def _update(self, id: str, operation: str, values: Mapping[str, Any]) -> None:
        async with self._db.single(operation) as conn:
            done = await conn.execute(update(table).where(table.c.id == id).values(values))
        if done.rowcount == 0:
            raise NotFound(f"no dead letter {id!r}")


async def _add_failure(
    conn: AsyncConnection,
    flow: str,
    message_id: str,
    attempts: list[dict[str, Any]],
    latest: Mapping[str, Any],
) -> str:
    where = (table.c.flow == flow, table.c.message_id == message_id)
    query = select(table.c.id, table.c.failures).where(*where).with_for_update()
    row = (await conn.execute(query)).one()
    history = [*row.failures, *attempts]
    values = {**latest, "failures": history, "failure_count": table.c.failure_count + 1}
    await conn.execute(update(table).where(table.c.id == row.id).values(values))
    return str(row.id)


def _filters(flow: str | None, status: DeadLetterStatus | None) -> list[ColumnElement[bool]]:
    filters = [table.c.status == status] if status else [table.c.status != "purged"]
    if flow is not None:
        filters.append(table.c.flow == flow)
    return filters


def _since(since: datetime | None) -> list[ColumnElement[bool]]:
    return [] if since is None else [table.c.last_failure_at >= since]


def _dead_letter(row: Mapping[Any, Any]) -> DeadLetter:
    stored = {name: row[name] for name in MESSAGE_FIELDS}
    fields = {name: row[name] for name in _RECORD_FIELDS}
    return DeadLetter(**fields, attempts=list(row["failures"]), _stored=stored)


_RECORD_FIELDS = [f for f in DeadLetter.__dataclass_fields__ if f not in ("attempts", "_stored")]
