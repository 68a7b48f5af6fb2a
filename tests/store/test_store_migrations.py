"""Opening a store migrates an empty database to head; opening it again changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from splice.message import Message
from splice.store import Store
from splice.store.migrate import current_revision, head_revision
from splice.store.schema import metadata

OpenStore = Callable[[], Awaitable[Store]]

TABLES = {
    "alembic_version",
    "splice_aggregation_completions",
    "splice_aggregation_messages",
    "splice_dead_letters",
    "splice_idempotency_keys",
    "splice_journal",
    "splice_schema_subjects",
    "splice_schema_versions",
}


async def table_names(store: Store) -> set[str]:
    async with store._db.read("test") as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_open_creates_every_table_at_head(store: Store) -> None:
    assert await table_names(store) == TABLES
    assert await current_revision(store._db) == head_revision()


async def test_migrated_database_matches_the_table_definitions(store: Store) -> None:
    def differences(sync: object) -> list[object]:
        context = MigrationContext.configure(sync)  # type: ignore[arg-type]
        return [d for d in compare_metadata(context, metadata) if "alembic" not in str(d)]

    async with store._db.read("test") as conn:
        assert await conn.run_sync(differences) == []


async def test_reopening_is_a_no_op_and_keeps_the_data(open_store: OpenStore) -> None:
    first = await open_store()
    await first.journal.append("orders", Message(b"x"))
    await first.close()
    second = await open_store()
    assert await table_names(second) == TABLES
    assert await second.journal.count_pending("orders") == 1


async def test_concurrent_opens_of_an_empty_database_migrate_once(open_store: OpenStore) -> None:
    stores = await asyncio.gather(*(open_store() for _ in range(4)))
    for store in stores:
        assert await current_revision(store._db) == head_revision()


async def test_sqlite_file_is_created_in_the_project_folder_in_wal_mode(tmp_path: Path) -> None:
    store = await Store.open("sqlite:///state/store.db", project_dir=tmp_path)
    try:
        async with store._db.read("test") as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
            sync = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar_one()
    finally:
        await store.close()
    assert (tmp_path / "state" / "store.db").exists()
    assert (mode, sync) == ("wal", 1)  # 1 = NORMAL


async def test_sqlite_synchronous_full_is_chosen_in_the_url(tmp_path: Path) -> None:
    store = await Store.open("sqlite:///s.db?synchronous=full", project_dir=tmp_path)
    try:
        async with store._db.read("test") as conn:
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar_one() == 2
    finally:
        await store.close()


async def test_in_memory_sqlite_store_works(tmp_path: Path) -> None:
    store = await Store.open("sqlite:///:memory:", project_dir=tmp_path)
    try:
        results = await asyncio.gather(*(store.idempotency.claim("s", "k", 60) for _ in range(20)))
        assert results.count(True) == 1
        assert await table_names(store) == TABLES
    finally:
        await store.close()
