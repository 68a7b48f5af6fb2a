"""``sql`` sink: insert, upsert or run a parameterised statement, in transactions.

The body is an object (one row) or an array of objects (rows written in one transaction);
JSON bytes are parsed. ``send`` returns once the transaction committed. Messages sent while
a transaction is being written share the next one (group commit, see ``_batch.py``).

- ``table`` (+ ``columns``): INSERT. ``columns`` maps each column to a field name or a
  JSONata expression over the row (a list means columns named like the fields; absent,
  every field of the body is a column). The table is read at open, so an unknown table or
  column stops the flow from starting; ISO-8601 text bound to a date/time column and
  numbers to a decimal column are converted.
- ``on_conflict: [keys]``: upsert. ``ON CONFLICT (keys) DO UPDATE`` on PostgreSQL and
  SQLite, ``ON DUPLICATE KEY UPDATE`` on MySQL/MariaDB (where any unique key counts).
- ``statement``: any SQL with ``:name`` parameters, each bound from the field ``name``.

Every value is a bound parameter, never SQL text; objects and arrays are bound as JSON text
unless the column is a JSON column.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import Field, field_validator, model_validator

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentSpec
from splice.connectors.sql._batch import GroupCommit
from splice.connectors.sql._database import (
    IDENTIFIER,
    SqlConnectionConfig,
    check_identifier,
    check_table,
    create_engine,
    reflect,
    translate,
)
from splice.errors import ConfigError, MessageError, NotConnected, is_transient
from splice.mapping import UNDEFINED, compile_mapping
from splice.message import Message

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlalchemy.sql.base import Executable

__all__ = ["SPEC", "SqlSink", "SqlSinkConfig"]

_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
MAX_BATCH_ROWS = 1000
"""Most rows in one transaction when several messages are written together."""


class SqlSinkConfig(SqlConnectionConfig):
    table: str | None = Field(None, description="Table to write (`table` or `schema.table`).")
    columns: dict[str, str] | list[str] | None = Field(
        None, description="Column -> field name or JSONata expression (a list: same names)."
    )
    on_conflict: list[str] | None = Field(
        None, description="Key columns: update the row when it exists (upsert)."
    )
    statement: str | None = Field(
        None, description="SQL with `:name` parameters bound from the body's fields."
    )

    @field_validator("table")
    @classmethod
    def _table(cls, value: str | None) -> str | None:
        return None if value is None else check_table(value)

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: dict[str, str] | list[str] | None) -> dict[str, str] | None:
        if isinstance(value, list):
            value = {name: name for name in value}
        return None if value is None else {check_identifier(k): v for k, v in value.items()}

    @field_validator("on_conflict")
    @classmethod
    def _keys(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [check_identifier(k) for k in value]

    @model_validator(mode="after")
    def _mode(self) -> SqlSinkConfig:
        if (self.table is None) == (self.statement is None):
            raise ValueError("give exactly one of 'table' and 'statement'")
        if self.statement is not None and (self.columns or self.on_conflict):
            raise ValueError("columns and on_conflict go with 'table', not 'statement'")
        if self.on_conflict == []:
            raise ValueError("on_conflict lists at least one key column")
        return self


SPEC = ComponentSpec(
    kind="sink",
    name="sql",
    summary="Insert or upsert rows, or run a parameterised statement, in a transaction.",
    config=SqlSinkConfig,
    example="sql: {url: 'postgresql://app@db/sales', table: orders, on_conflict: [order_id]}",
    factory="splice.connectors.sql.sink:SqlSink",
    description=(
        "PostgreSQL, MySQL/MariaDB and SQLite. Values are always bound parameters; names "
        "from the config are checked and quoted. See docs/guides/sql.md."
    ),
)

Extract = Callable[[dict[str, Any]], Any]


class SqlSink(Sink):
    def __init__(self, config: SqlSinkConfig, context: Context) -> None:
        self.config = config
        self._engine: AsyncEngine | None = None
        self._table: Table | None = None
        self._extract = _extractors(config.columns)
        self._parameters = sorted(set(_PARAMETER.findall(config.statement or "")))
        self._batches = GroupCommit(self._write_rows, max_rows=MAX_BATCH_ROWS)
        self._statements: dict[tuple[str, tuple[str, ...]], Executable] = {}

    async def open(self) -> None:
        if self._engine is not None:
            return
        engine = create_engine(self.config)
        try:
            if self.config.table is not None:
                async with engine.connect() as conn:
                    self._table = await conn.run_sync(reflect, self.config.table)
                self._check_columns()
        except ConfigError:
            await engine.dispose()
            raise
        except Exception as exc:
            await engine.dispose()
            error = translate(exc, f"sql sink: reading {self.config.table}")
            raise (NotConnected(str(error)) if is_transient(error) else error) from exc
        self._engine = engine

    def _check_columns(self) -> None:
        assert self._table is not None
        wanted = set(self._extract or {}) | set(self.config.on_conflict or [])
        unknown = sorted(wanted - set(self._table.c.keys()))
        if unknown:
            where = f"table {self.config.table}"
            raise ConfigError.at("<flow>", 0, 0, f"{where} has no column {', '.join(unknown)}")

    async def close(self) -> None:
        await self._batches.drain()
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()

    async def send(self, message: Message) -> None:
        if self._engine is None:
            raise NotConnected("sql sink is not open")
        rows = [self._row(record) for record in _records(message)]
        if rows:
            await self._batches.submit(rows)

    async def _write_rows(self, rows: list[dict[str, Any]]) -> None:
        """One transaction; rows in a run with the same columns go in one executemany."""
        if self._engine is None:
            raise NotConnected("sql sink is not open")
        try:
            async with self._engine.begin() as conn:
                for columns, run in _runs(rows):
                    await conn.execute(self._statement(conn.dialect.name, columns), run)
        except Exception as exc:
            raise translate(exc, f"sql sink: writing {self.config.table or 'statement'}") from exc

    def _statement(self, dialect: str, columns: tuple[str, ...]) -> Executable:
        key = (dialect, columns)
        statement = self._statements.get(key)
        if statement is None:
            statement = self._statements[key] = self._build_statement(dialect, columns)
        return statement

    def _build_statement(self, dialect: str, columns: tuple[str, ...]) -> Executable:
        from sqlalchemy import text

        if self._table is None:
            return text(self.config.statement or "")
        if self.config.on_conflict is None:
            return self._table.insert()
        return _upsert(self._table, dialect, self.config.on_conflict, list(columns))

    def _row(self, record: dict[str, Any]) -> dict[str, Any]:
        if self._table is None:
            return {name: _bindable(record.get(name), None) for name in self._parameters}
        if self._extract is not None:
            row = {column: extract(record) for column, extract in self._extract.items()}
        else:
            row = dict(record)
        columns = self._table.c
        unknown = sorted(set(row) - set(columns.keys()))
        if unknown:
            raise MessageError(f"no column {', '.join(unknown)} in {self.config.table}")
        return {name: _coerced(name, value, columns[name].type) for name, value in row.items()}


def _upsert(table: Table, dialect: str, keys: list[str], columns: list[str]) -> Executable:
    updates = [c for c in columns if c not in keys]
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(table)
        if not updates:
            return pg.on_conflict_do_nothing(index_elements=keys)
        return pg.on_conflict_do_update(
            index_elements=keys, set_={c: pg.excluded[c] for c in updates}
        )
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(table)
        if not updates:
            return lite.on_conflict_do_nothing(index_elements=keys)
        return lite.on_conflict_do_update(
            index_elements=keys, set_={c: lite.excluded[c] for c in updates}
        )
    from sqlalchemy.dialects.mysql import insert as mysql_insert

    mysql = mysql_insert(table)
    names = updates or keys[:1]  # nothing to update: a no-op assignment
    return mysql.on_duplicate_key_update({c: mysql.inserted[c] for c in names})


def _runs(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    """Consecutive rows with the same columns, in order (a later upsert must win)."""
    runs: list[tuple[tuple[str, ...], list[dict[str, Any]]]] = []
    for row in rows:
        columns = tuple(row)
        if runs and runs[-1][0] == columns:
            runs[-1][1].append(row)
        else:
            runs.append((columns, [row]))
    return runs


def _extractors(columns: dict[str, str] | list[str] | None) -> dict[str, Extract] | None:
    if columns is None:
        return None
    if isinstance(columns, list):
        columns = {name: name for name in columns}
    return {column: _extractor(source) for column, source in columns.items()}


def _extractor(source: str) -> Extract:
    if IDENTIFIER.match(source):
        return lambda record: record.get(source)
    mapping = compile_mapping(source)

    def evaluate(record: dict[str, Any]) -> Any:
        result = mapping.evaluate(record)
        return None if result is UNDEFINED else result

    return evaluate


def _records(message: Message) -> list[dict[str, Any]]:
    body = message.body
    if message.is_encoded:
        try:
            body = orjson.loads(message.body_bytes())
        except orjson.JSONDecodeError as exc:
            raise MessageError(f"the body is not JSON: {exc}") from exc
    records = body if isinstance(body, list) else [body]
    if not all(isinstance(record, dict) for record in records):
        raise MessageError("the body must be an object or an array of objects")
    return records


def _bindable(value: Any, json_column: bool | None) -> Any:
    if isinstance(value, dict | list) and not json_column:
        return orjson.dumps(value).decode()
    return value


def _coerced(name: str, value: Any, column_type: Any) -> Any:
    """ISO text to dates and times, numbers to Decimal, objects to JSON text."""
    from sqlalchemy import JSON, Date, DateTime, Numeric, Time

    if value is None:
        return None
    try:
        if isinstance(value, str) and isinstance(column_type, DateTime):
            return dt.datetime.fromisoformat(value)
        if isinstance(value, str) and isinstance(column_type, Date):
            return dt.date.fromisoformat(value)
        if isinstance(value, str) and isinstance(column_type, Time):
            return dt.time.fromisoformat(value)
        if isinstance(value, int | float | str) and _is_decimal(column_type, Numeric):
            return decimal.Decimal(str(value))
    except (ValueError, decimal.InvalidOperation) as exc:
        raise MessageError(f"column {name}: {value!r} is not a {column_type}", field=name) from exc
    return _bindable(value, isinstance(column_type, JSON))


def _is_decimal(column_type: Any, numeric: type[Any]) -> bool:
    return isinstance(column_type, numeric) and bool(getattr(column_type, "asdecimal", False))
