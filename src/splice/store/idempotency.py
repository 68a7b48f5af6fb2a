"""Idempotency keys: "has this key been seen in this scope?", atomically, across processes.

:meth:`IdempotencyKeys.claim` is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired``
statement: the database decides which of any number of concurrent claimers (tasks, worker
processes) wins, and an expired key is taken over by exactly one of them.

A claim made with an ``owner`` (the message id) is *pending* until :meth:`confirm` marks it
done. While pending, the same owner may claim it again: a message resumed after a crash
between the claim and its delivery is not mistaken for its own duplicate. Once confirmed,
every later claim of the key within its time to live is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, or_, update

from splice.store._engine import Database
from splice.store._upsert import insert_or_take_over
from splice.store.schema import idempotency_keys as table

__all__ = ["IdempotencyKeys"]


class IdempotencyKeys:
    """Keys claimed per scope (a flow step, a sink) for a time to live."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim(
        self, scope: str, key: str, ttl_seconds: float, *, owner: str | None = None
    ) -> bool:
        """True for the first claim of ``key`` in ``scope`` (or of an expired one), else False.

        With an ``owner``, the claim stays pending until :meth:`confirm`; the same owner may
        claim a pending key again (a redelivery of the same message).
        """
        now = datetime.now(UTC)
        values: dict[str, object] = {"scope": scope, "key": key, "claimed_at": now}
        values["expires_at"] = now + timedelta(seconds=ttl_seconds)
        values["owner"] = owner
        values["state"] = "pending" if owner is not None else "done"
        when = table.c.expires_at <= now
        if owner is not None:
            when = or_(when, and_(table.c.owner == owner, table.c.state == "pending"))
        async with self._db.single("idempotency claim") as conn:
            statement = insert_or_take_over(
                conn, table, values, ["scope", "key"], when=when
            ).returning(table.c.key)
            return (await conn.execute(statement)).first() is not None

    async def confirm(self, scope: str, key: str, owner: str) -> None:
        """The delivery guarded by ``owner``'s claim succeeded: the key is now taken for good."""
        query = (
            update(table)
            .where(table.c.scope == scope, table.c.key == key, table.c.owner == owner)
            .values(state="done")
        )
        async with self._db.single("idempotency confirm") as conn:
            await conn.execute(query)

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
