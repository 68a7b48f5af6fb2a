"""The store suite runs once on SQLite and once on PostgreSQL.

PostgreSQL is the server of this machine (``SPLICE_TEST_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``); every test gets a fresh schema, dropped
afterwards. When the server is unreachable the PostgreSQL tests skip with the reason, except
under ``CI=true`` where they fail: CI must not go green without the real database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from splice.store import Store

POSTGRES_URL = os.environ.get(
    "SPLICE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

OpenStore = Callable[[], Awaitable[Store]]

_reachable: dict[str, str | None] = {}


async def _postgres_problem() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per session)."""
    if POSTGRES_URL not in _reachable:
        try:
            connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            _reachable[POSTGRES_URL] = f"{type(exc).__name__}: {exc}"
        else:
            await connection.close()
            _reachable[POSTGRES_URL] = None
    return _reachable[POSTGRES_URL]


async def require_postgres() -> None:
    problem = await _postgres_problem()
    if problem is None:
        return
    reason = f"PostgreSQL not reachable at {POSTGRES_URL}: {problem}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the PostgreSQL store tests must run)")
    pytest.skip(reason)


async def _drop_schema(schema: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL, timeout=10)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.service)],
)
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL to an empty store: a SQLite file in ``tmp_path``, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield "sqlite:///.splice/state.db"
        return
    await require_postgres()
    schema = f"splice_test_{uuid.uuid4().hex[:16]}"
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        await _drop_schema(schema)


@pytest.fixture
async def open_store(store_url: str, tmp_path: Path) -> AsyncIterator[OpenStore]:
    """Opens another :class:`Store` on the same database; all are closed after the test."""
    opened: list[Store] = []

    async def _open() -> Store:
        store = await Store.open(store_url, project_dir=tmp_path)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: OpenStore) -> Store:
    return await open_store()
