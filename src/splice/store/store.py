"""The state store: one object that opens the database and holds its parts."""

from __future__ import annotations

from pathlib import Path

from splice.store._engine import Database, parse_url
from splice.store.aggregations import AggregationState
from splice.store.dead_letters import DeadLetterQueue
from splice.store.idempotency import IdempotencyKeys
from splice.store.journal import Journal
from splice.store.migrate import upgrade
from splice.store.schemas import SchemaVersions

__all__ = ["Store"]


class Store:
    """The state store of a project: dead letters, idempotency keys, journal, aggregations.

    Open it with :meth:`open` (which creates the SQLite folder and migrates the schema to
    the newest revision) and :meth:`close` it when done; ``close`` may be called twice.
    Every method may raise :class:`~splice.errors.NotConnected` when the database is
    unreachable or locked past the busy timeout (pause and retry), or
    :class:`~splice.store.StoreError` for anything retrying will not fix.
    """

    def __init__(self, database: Database, *, worker: int | None = None, workers: int = 1) -> None:
        self._db = database
        self.dead_letters = DeadLetterQueue(database)
        self.idempotency = IdempotencyKeys(database)
        self.journal = Journal(database, worker=worker, workers=workers)
        self.aggregations = AggregationState(database)
        self.schemas = SchemaVersions(database)

    @classmethod
    async def open(
        cls, url: str, *, project_dir: Path, worker: int | None = None, workers: int = 1
    ) -> Store:
        """Open the store at ``url`` (relative SQLite paths are inside ``project_dir``).

        ``worker`` (of ``workers``) is the worker number of a ``splice run --workers N``
        process: its journal resumes only that worker's entries.
        """
        database = Database(parse_url(url, project_dir=project_dir))
        try:
            await upgrade(database)
        except BaseException:
            await database.dispose()
            raise
        return cls(database, worker=worker, workers=workers)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._db.dialect

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._db.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
