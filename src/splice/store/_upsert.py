"""``INSERT ... ON CONFLICT`` for the two dialects the store speaks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

__all__ = ["insert_ignoring_conflict", "insert_or_take_over"]

_Insert = postgresql.Insert | sqlite.Insert


def _insert(conn: AsyncConnection, table: Table) -> _Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring_conflict(
    conn: AsyncConnection, table: Table, values: Mapping[str, Any], keys: Sequence[str]
) -> _Insert:
    """Insert ``values`` unless a row with the same ``keys`` exists (then nothing happens)."""
    return _insert(conn, table).values(values).on_conflict_do_nothing(index_elements=keys)


def insert_or_take_over(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    when: ColumnElement[bool] | None = None,
) -> _Insert:
    """Insert ``values``; on a conflict overwrite the row (only where ``when`` holds)."""
    statement = _insert(conn, table).values(values)
    updates = {name: statement.excluded[name] for name in values if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=updates, where=when)
