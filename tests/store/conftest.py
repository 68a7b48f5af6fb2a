"""The store suite runs once on SQLite and once on PostgreSQL.

PostgreSQL is the server of this machine: ``SPLICE_TEST_POSTGRES_URL``, or else database
``test`` at 127.0.0.1:5432 as user ``postgres`` or ``root``. Every test gets a fresh schema,
dropped afterwards. When the server is unreachable the PostgreSQL tests skip with the reason, except
under ``CI=true`` where they fail: CI must not go green without the real database.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from splice.store import Store

_CANDIDATES = (
    [os.environ["SPLICE_TEST_POSTGRES_URL"]]
    if os.environ.get("SPLICE_TEST_POSTGRES_URL")
    else [
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgresql://root@127.0.0.1:5432/test",
    ]
)

OpenStore = Callable[[], Awaitable[Store]]

_found: dict[str, str] = {}  # "url" or "problem", decided once per session


async def _find_postgres() -> None:
    problems = []
    for url in _CANDIDATES:
        try:
            connection = await asyncpg.connect(url, timeout=3)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            problems.append(f"{url}: {type(exc).__name__}: {exc}")
        else:
            await connection.close()
            _found["url"] = url
            return
    _found["problem"] = "; ".join(problems)


async def require_postgres() -> str:
    """The URL of the test PostgreSQL server; skips (fails under CI=true) if unreachable."""
    if not _found:
        await _find_postgres()
    if "url" in _found:
        return _found["url"]
    where = urlsplit(_CANDIDATES[0]).netloc.rpartition("@")[2]
    reason = f"PostgreSQL not reachable at {where}: {_found['problem']}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the PostgreSQL store tests must run, not skip)")
    pytest.skip(reason)


async def _drop_schema(url: str, schema: str) -> None:
    connection = await asyncpg.connect(url, timeout=10)
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
    async with fresh_postgres_schema() as url:
        yield url


@contextlib.asynccontextmanager
async def fresh_postgres_schema() -> AsyncIterator[str]:
    """A URL to a new, empty PostgreSQL schema, dropped at the end."""
    url = await require_postgres()
    schema = f"splice_test_{uuid.uuid4().hex[:16]}"
    try:
        yield f"{url}?schema={schema}"
    finally:
        await _drop_schema(url, schema)


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
