"""An unreachable or locked database is NotConnected (pause and retry); the rest StoreError."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from conftest import fresh_postgres_schema, require_postgres

from splice.errors import NotConnected
from splice.message import Message
from splice.store import Store, StoreError


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def locked_sqlite(tmp_path: Path) -> Iterator[None]:
    """Another process holds the write lock of ``tmp_path/state.db``."""
    holder = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("CREATE TABLE hold (x)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO hold VALUES (1)")
    yield
    holder.execute("ROLLBACK")
    holder.close()


async def test_unreachable_postgresql_is_not_connected(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/test"
    with pytest.raises(NotConnected, match="state store unavailable") as raised:
        await Store.open(url, project_dir=tmp_path)
    assert raised.value.__cause__ is not None


@pytest.mark.service
async def test_postgresql_connection_killed_is_not_connected_then_recovers(
    tmp_path: Path,
) -> None:
    async with fresh_postgres_schema() as url:
        store = await Store.open(url, project_dir=tmp_path)
        await _kill_connection_and_retry(store)


async def _kill_connection_and_retry(store: Store) -> None:
    try:
        async with store._db.read("test") as conn:
            pid = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
        admin = await asyncpg.connect(await require_postgres())
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        await admin.close()
        with pytest.raises(NotConnected):
            await store.journal.append("orders", Message(b"1"))
        assert await store.journal.append("orders", Message(b"2")) > 0
    finally:
        await store.close()


async def test_sqlite_locked_past_the_busy_timeout_is_not_connected(
    tmp_path: Path, locked_sqlite: None
) -> None:
    with pytest.raises(NotConnected, match="database is locked"):
        await Store.open("sqlite:///state.db?busy_timeout=0.1", project_dir=tmp_path)


async def test_sqlite_store_recovers_once_the_lock_is_released(
    tmp_path: Path,
) -> None:
    store = await Store.open("sqlite:///state.db?busy_timeout=0.1", project_dir=tmp_path)
    try:
        holder = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(NotConnected):
            await store.journal.append("orders", Message(b"1"))
        holder.execute("ROLLBACK")
        holder.close()
        assert await store.journal.append("orders", Message(b"1")) > 0
    finally:
        await store.close()


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/x", "sqlite:///s.db?synchronous=off", "not a url"]
)
async def test_bad_store_url_is_a_store_error(tmp_path: Path, url: str) -> None:
    with pytest.raises(StoreError) as raised:
        await Store.open(url, project_dir=tmp_path)
    assert raised.value.code == "store-url"


async def test_unstorable_decoded_body_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="not JSON") as raised:
        await store.journal.append("orders", Message({1: {"a", "set"}}))
    assert raised.value.code == "store-unserialisable"
    assert await store.journal.count_pending("orders") == 0


async def test_sqlite_folder_that_cannot_be_created_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(StoreError) as raised:
        await Store.open("sqlite:///file/state.db", project_dir=tmp_path)
    assert raised.value.code == "store-path"
