"""The state store: dead letters, idempotency keys, the inbound journal, aggregation state.

SQLAlchemy Core on SQLite (WAL, the embedded default) or PostgreSQL (shared by many
workers). The schema is migrated by the packaged Alembic migrations on :meth:`Store.open`.
See ``docs/guides/store.md``.
"""

from splice.store.aggregations import AggregationState, OpenGroup
from splice.store.dead_letters import DeadLetter, DeadLetterQueue, DeadLetterStatus
from splice.store.errors import NotFound, StoreError
from splice.store.idempotency import IdempotencyKeys
from splice.store.journal import Journal
from splice.store.store import Store

__all__ = [
    "AggregationState",
    "DeadLetter",
    "DeadLetterQueue",
    "DeadLetterStatus",
    "IdempotencyKeys",
    "Journal",
    "NotFound",
    "OpenGroup",
    "Store",
    "StoreError",
]
