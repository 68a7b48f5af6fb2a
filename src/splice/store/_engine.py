"""Store URLs, engines and transactions.

``Database`` owns the SQLAlchemy async engine and hands out transactions that translate
database errors into splice errors. On SQLite every writing transaction starts with
``BEGIN IMMEDIATE`` so that a read-then-write transaction never fails half-way on a lock
upgrade; reads use a plain ``BEGIN`` and run next to the writer thanks to WAL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from splice.store.errors import StoreError, translate

__all__ = ["Database", "StoreUrl", "parse_url"]

_SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}
_BEGIN_OPTION = "splice_sqlite_begin"


@dataclass(frozen=True)
class StoreUrl:
    """A store URL resolved for SQLAlchemy, with the splice-specific options taken out."""

    url: URL
    dialect: str  # "sqlite" or "postgresql"
    memory: bool = False
    synchronous: str = "NORMAL"
    busy_timeout: float = 5.0
    schema: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"


def parse_url(text: str, *, project_dir: Path) -> StoreUrl:
    """Resolve ``sqlite:///...`` against ``project_dir`` and pick the async driver."""
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise StoreError(f"not a store URL: {text!r}", code="store-url") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_url(url, project_dir)
    if backend in ("postgresql", "postgres"):
        schema = url.query.get("schema")
        url = url.set(drivername="postgresql+asyncpg").difference_update_query(["schema"])
        return StoreUrl(url, "postgresql", schema=schema if isinstance(schema, str) else None)
    raise StoreError(
        f"unsupported store URL scheme {url.drivername!r}: use sqlite:/// or postgresql://",
        code="store-url",
    )


def _sqlite_url(url: URL, project_dir: Path) -> StoreUrl:
    sync = str(url.query.get("synchronous", "normal")).lower()
    if sync not in _SYNCHRONOUS:
        raise StoreError(f"synchronous must be normal or full, not {sync!r}", code="store-url")
    try:
        busy = float(str(url.query.get("busy_timeout", "5")))
    except ValueError as exc:
        raise StoreError("busy_timeout must be a number of seconds", code="store-url") from exc
    memory = url.database in (None, "", ":memory:")
    url = url.set(drivername="sqlite+aiosqlite").difference_update_query(
        ["synchronous", "busy_timeout"]
    )
    if not memory:
        path = Path(str(url.database)).expanduser()
        path = path if path.is_absolute() else project_dir / path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store folder: {exc}", code="store-path") from exc
        url = url.set(database=str(path))
    else:
        url = url.set(database=":memory:")
    return StoreUrl(url, "sqlite", memory, _SYNCHRONOUS[sync], busy)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class Database:
    """One engine (a connection pool) and the transactions of one :class:`Store`."""

    def __init__(self, target: StoreUrl) -> None:
        self.target = target
        self.engine = _create_engine(target)
        self._reader = self.engine.execution_options(**{_BEGIN_OPTION: "BEGIN"})
        # One statement is atomic by itself: no BEGIN/COMMIT round trips around it.
        self._single = self.engine.execution_options(
            **({_BEGIN_OPTION: ""} if target.is_sqlite else {"isolation_level": "AUTOCOMMIT"})
        )
        # A :memory: database lives in one shared connection: transactions take turns.
        self._turn = asyncio.Lock() if target.memory else None

    @property
    def dialect(self) -> str:
        return self.target.dialect

    @contextlib.asynccontextmanager
    async def write(self, operation: str) -> AsyncIterator[AsyncConnection]:
        """A transaction that may write; committed when the block ends without error."""
        async with self._translated(operation), self._taking_turns(), self.engine.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def single(self, operation: str) -> AsyncIterator[AsyncConnection]:
        """A connection for exactly one statement, atomic and committed on its own.

        The hot path (journal append, idempotency claim) and every one-statement read use
        it: it saves the round trips of an explicit transaction. Never run two statements
        in it: use :meth:`write` or :meth:`read`.
        """
        async with self._translated(operation), self._taking_turns(), self._single.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def read(self, operation: str) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (on SQLite it does not take the write lock)."""
        async with self._translated(operation), self._taking_turns(), self._reader.begin() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()

    @contextlib.asynccontextmanager
    async def _translated(self, operation: str) -> AsyncIterator[None]:
        try:
            yield
        except (StoreError, asyncio.CancelledError):
            raise
        except Exception as exc:
            if _is_database_error(exc):
                raise translate(exc, operation=operation) from exc
            raise

    @contextlib.asynccontextmanager
    async def _taking_turns(self) -> AsyncIterator[None]:
        if self._turn is None:
            yield
            return
        async with self._turn:
            yield


def _is_database_error(error: Exception) -> bool:
    return isinstance(error, SQLAlchemyError | OSError | TimeoutError)


def _create_engine(target: StoreUrl) -> AsyncEngine:
    json_args: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if not target.is_sqlite:
        return _create_postgresql_engine(target, json_args)
    pool: dict[str, Any] = {"poolclass": StaticPool} if target.memory else {}
    engine = create_async_engine(
        target.url,
        connect_args={"timeout": target.busy_timeout},
        pool_reset_on_return=None,  # every transaction already ends in COMMIT or ROLLBACK
        **pool,
        **json_args,
    )
    _configure_sqlite(engine, target)
    return engine


def _create_postgresql_engine(target: StoreUrl, json_args: dict[str, Any]) -> AsyncEngine:
    connect_args: dict[str, Any] = {"timeout": 10}
    if target.schema:
        connect_args["server_settings"] = {"search_path": target.schema}
    return create_async_engine(
        target.url,
        connect_args=connect_args,
        pool_size=10,
        max_overflow=10,
        pool_recycle=1800,
        **json_args,
    )


def _configure_sqlite(engine: AsyncEngine, target: StoreUrl) -> None:
    pragmas = [
        f"PRAGMA busy_timeout = {int(target.busy_timeout * 1000)}",
        f"PRAGMA synchronous = {target.synchronous}",
        "PRAGMA foreign_keys = ON",
    ]
    if not target.memory:
        pragmas.insert(0, "PRAGMA journal_mode = WAL")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        begin = conn.get_execution_options().get(_BEGIN_OPTION, "BEGIN IMMEDIATE")
        if begin:
            conn.exec_driver_sql(begin)
