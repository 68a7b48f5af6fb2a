"""Aggregation state, for the aggregator pattern: messages collected per group key.

:meth:`AggregationState.complete` takes the group's messages and deletes them in one
transaction (``DELETE ... RETURNING``): of two workers completing the same group, one gets
the messages and the other an empty list. The completion is remembered, so that a message
arriving for a completed group can be recognised as late (:meth:`is_completed`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.sql import ColumnElement

from splice.message import Message
from splice.store._engine import Database
from splice.store._upsert import insert_or_take_over
from splice.store.codec import decode_message, encode_message
from splice.store.schema import aggregation_completions as completions
from splice.store.schema import aggregation_messages as table

__all__ = ["AggregationState", "OpenGroup"]


class OpenGroup(NamedTuple):
    """A group still collecting: its key, when its first message came, how many it holds."""

    key: str
    first_at: datetime
    message_count: int


class AggregationState:
    """Groups of messages per flow and key, until the aggregator completes them."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, flow: str, key: str, message: Message) -> int:
        """Add ``message`` to the group; returns how many messages the group now holds."""
        values = {"flow": flow, "group_key": key, "added_at": datetime.now(UTC)}
        values |= encode_message(message)
        count = select(func.count()).select_from(table).where(*_group(flow, key))
        async with self._db.write("aggregation add") as conn:
            await conn.execute(table.insert().values(values))
            return int((await conn.execute(count)).scalar_one())

    async def get(self, flow: str, key: str) -> list[Message]:
        """The group's messages in arrival order, leaving them in place."""
        query = select(table).where(*_group(flow, key)).order_by(table.c.id)
        async with self._db.single("aggregation get") as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [decode_message(row) for row in rows]

    async def snapshot(
        self, flow: str, key: str, limit: int | None = None
    ) -> tuple[list[Message], int]:
        """The group's (first ``limit``) messages in arrival order and the last one's position.

        Give that position to :meth:`complete` as ``through`` after the aggregate of these
        messages was delivered: a message another worker added meanwhile stays in the group.
        """
        query = select(table).where(*_group(flow, key)).order_by(table.c.id).limit(limit)
        async with self._db.single("aggregation snapshot") as conn:
            rows = (await conn.execute(query)).mappings().all()
        last = int(rows[-1]["id"]) if rows else 0
        return [decode_message(row) for row in rows], last

    async def complete(self, flow: str, key: str, through: int | None = None) -> list[Message]:
        """Take the group's messages (arrival order), delete them, remember the completion.

        With ``through`` (from :meth:`snapshot`), only the messages up to that position.
        """
        where = _group(flow, key)
        if through is not None:
            where = (*where, table.c.id <= through)
        taken = delete(table).where(*where).returning(*table.c)
        async with self._db.write("aggregation complete") as conn:
            rows = (await conn.execute(taken)).mappings().all()
            done = {"flow": flow, "group_key": key, "message_count": len(rows)}
            done["completed_at"] = datetime.now(UTC)
            keys = ["flow", "group_key"]
            await conn.execute(insert_or_take_over(conn, completions, done, keys))
        return [decode_message(row) for row in sorted(rows, key=lambda row: int(row["id"]))]

    async def is_completed(self, flow: str, key: str) -> bool:
        """Whether the group was completed before (a message for it now is late)."""
        query = select(completions.c.flow).where(
            completions.c.flow == flow, completions.c.group_key == key
        )
        async with self._db.single("aggregation is completed") as conn:
            return (await conn.execute(query)).first() is not None

    async def open_groups(self, flow: str) -> list[OpenGroup]:
        """Groups of ``flow`` still collecting, oldest first."""
        first_at = func.min(table.c.added_at)
        query = (
            select(table.c.group_key, first_at, func.count())
            .where(table.c.flow == flow)
            .group_by(table.c.group_key)
            .order_by(first_at, table.c.group_key)
        )
        async with self._db.single("aggregation open groups") as conn:
            rows = (await conn.execute(query)).all()
        return [OpenGroup(key, at, int(count)) for key, at, count in rows]


def _group(flow: str, key: str) -> tuple[ColumnElement[bool], ...]:
    return (table.c.flow == flow, table.c.group_key == key)
