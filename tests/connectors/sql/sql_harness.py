"""Shared by the SQL tests: one database of each kind, with a fresh table per test."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # tests/ is a package; these test folders are not
    sys.path.insert(0, str(ROOT))

from tests.services import require  # noqa: E402

__all__ = ["URLS", "Database", "require"]

URLS = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql://root@127.0.0.1:3306/test",
}


class Database:
    """A database for one test: its URL, an engine, and a table name of its own."""

    def __init__(self, kind: str, url: str, table: str) -> None:
        from sqlalchemy.ext.asyncio import create_async_engine

        from splice.connectors.sql._database import driver_url

        self.kind = kind
        self.url = url
        self.table = table
        self.engine = create_async_engine(driver_url(url), pool_pre_ping=True)

    async def execute(self, sql: str, *rows: dict[str, Any]) -> list[dict[str, Any]]:
        from sqlalchemy import text

        async with self.engine.begin() as conn:
            result = await conn.execute(text(sql), list(rows) if rows else None)
            return [dict(row._mapping) for row in result] if result.returns_rows else []

    async def create(self) -> None:
        """``id`` int key, ``name`` text, ``amount`` decimal, ``at`` timestamp, ``note``."""
        timestamp = "DATETIME(6)" if self.kind == "mariadb" else "TIMESTAMP"
        await self.execute(
            f"CREATE TABLE {self.table} (id INTEGER PRIMARY KEY, name VARCHAR(300), "
            f"amount NUMERIC(14, 4), at {timestamp} NULL, note TEXT)"
        )

    async def drop(self, *flows: str) -> None:
        from sqlalchemy import text

        async with self.engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE IF EXISTS {self.table}"))
            has_state = await conn.run_sync(
                lambda sync: sync.dialect.has_table(sync, "splice_watermarks")
            )
            if has_state:
                await conn.execute(
                    text("DELETE FROM splice_watermarks WHERE name LIKE :prefix"),
                    {"prefix": f"%:{self.table}.%"},
                )
        await self.engine.dispose()
