"""Idempotency keys: "has this key been seen in this scope?", atomically, across processes.

:meth:`IdempotencyKeys.claim` is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired``
statement: the database decides which of any number of concurrent claimers (tasks, worker
processes) wins, and an expired key is taken over by exactly one of them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from splice.store._engine import Database
from splice.store._upsert import insert_or_take_over
from splice.store.schema import idempotency_keys as table

__all__ = ["IdempotencyKeys"]


class IdempotencyKeys:
    """Keys claimed per scope (a flow step, a sink) for a time to live."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim(self, scope: str, key: str, ttl_seconds: float) -> bool:
        """True for the first claim of ``key`` in ``scope`` (or of an expired one), else False."""
        now = datetime.now(UTC)
        values = {"scope": scope, "key": key, "claimed_at": now}
        values["expires_at"] = now + timedelta(seconds=ttl_seconds)
        async with self._db.single("idempotency claim") as conn:
            statement = insert_or_take_over(
                conn, table, values, ["scope", "key"], when=table.c.expires_at <= now
            ).returning(table.c.key)
            return (await conn.execute(statement)).first() is not None

    async def release(self, scope: str, key: str) -> None:
        """Undo a claim (the delivery it guarded failed), so that a retry can claim it again."""
        query = delete(table).where(table.c.scope == scope, table.c.key == key)
        async with self._db.single("idempotency release") as conn:
            await conn.execute(query)

    async def purge_expired(self) -> int:
        """Delete expired keys; returns how many."""
        query = delete(table).where(table.c.expires_at <= datetime.now(UTC))
        async with self._db.single("idempotency purge") as conn:
            return (await conn.execute(query)).rowcount
