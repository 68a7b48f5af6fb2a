"""A fresh table in PostgreSQL, MariaDB and SQLite for each SQL test (dropped afterwards)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sql_harness import URLS, Database, require
from ulid import ULID

from splice.components.context import Context

KINDS = ["postgresql", "mariadb", "sqlite"]


async def _database(kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    else:
        require(kind)
        url = URLS[kind]
    database = Database(kind, url, f"t_{str(ULID()).lower()}")
    await database.create()
    yield database
    await database.drop()


@pytest.fixture(params=KINDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async for database in _database(request.param, tmp_path):
        yield database


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[Database]:
    async for database in _database("postgresql", tmp_path):
        yield database


@pytest.fixture
async def lite(tmp_path: Path) -> AsyncIterator[Database]:
    async for database in _database("sqlite", tmp_path):
        yield database


@pytest.fixture
def context(tmp_path: Path) -> Context:
    return Context(project_dir=tmp_path, flow="sql-test")
