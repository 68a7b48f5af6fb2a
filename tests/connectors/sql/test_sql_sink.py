"""The SQL sink against real PostgreSQL, MariaDB and SQLite: insert, upsert, statements,
and values that try to become SQL."""

from __future__ import annotations

import decimal
from typing import Any

import pytest
from sql_harness import Database

from splice.components import registry
from splice.components.context import Context
from splice.connectors.sql import SqlSink, SqlSinkConfig
from splice.errors import ConfigError, MessageError, PermanentError
from splice.message import Message

HOSTILE = [
    "'; DROP TABLE {table}; --",
    "Robert'); DROP TABLE students;--",
    '" OR "1"="1',
    "O'Brien \\' \\\\ \\",
    "back\\slash at the end\\",
    "%_ like wildcards, $1 and :name and ? placeholders",
    "ünïcødé ✓ 😀",
]


async def open_sink(context: Context, db: Database, **config: Any) -> SqlSink:
    sink = SqlSink(SqlSinkConfig.model_validate({"url": db.url, **config}), context)
    await sink.open()
    return sink


async def rows(db: Database) -> list[dict[str, Any]]:
    return await db.execute(f"SELECT id, name, amount, note FROM {db.table} ORDER BY id")


async def test_insert_maps_columns_from_fields_and_jsonata(context: Context, db: Database) -> None:
    columns = {"id": "orderId", "name": "customer.name", "amount": "$sum(items.price)"}
    sink = await open_sink(context, db, table=db.table, columns=columns)
    try:
        order = {"orderId": 1, "customer": {"name": "Ada"}, "items": [{"price": 1.25}] * 2}
        await sink.send(Message(order))
        await sink.send(Message(b'[{"orderId": 2, "items": []}, {"orderId": 3, "items": []}]'))
    finally:
        await sink.close()
        await sink.close()
    found = await rows(db)
    assert [r["id"] for r in found] == [1, 2, 3]
    assert found[0]["name"] == "Ada"
    assert decimal.Decimal(str(found[0]["amount"])) == decimal.Decimal("2.5")


async def test_insert_converts_iso_text_for_timestamp_columns(
    context: Context, db: Database
) -> None:
    sink = await open_sink(context, db, table=db.table)
    try:
        await sink.send(Message({"id": 1, "at": "2026-03-04T05:06:07", "note": {"a": [1]}}))
    finally:
        await sink.close()
    [row] = await db.execute(f"SELECT at, note FROM {db.table}")
    assert str(row["at"]).startswith("2026-03-04")
    assert row["note"] == '{"a":[1]}'


async def test_upsert_updates_the_existing_row(context: Context, db: Database) -> None:
    sink = await open_sink(context, db, table=db.table, on_conflict=["id"])
    try:
        await sink.send(Message({"id": 1, "name": "first", "amount": 1}))
        await sink.send(Message({"id": 1, "name": "second", "amount": 2}))
        await sink.send(
            Message([{"id": 2, "name": "x", "amount": 3}, {"id": 1, "name": "third", "amount": 4}])
        )
    finally:
        await sink.close()
    found = await rows(db)
    assert [(r["id"], r["name"]) for r in found] == [(1, "third"), (2, "x")]


async def test_upsert_of_keys_only_keeps_the_row(context: Context, db: Database) -> None:
    sink = await open_sink(context, db, table=db.table, columns=["id"], on_conflict=["id"])
    try:
        await sink.send(Message({"id": 1}))
        await sink.send(Message({"id": 1}))
    finally:
        await sink.close()
    assert [r["id"] for r in await rows(db)] == [1]


@pytest.mark.parametrize("mode", ["insert", "upsert", "statement"])
async def test_hostile_values_are_stored_verbatim(
    context: Context, db: Database, mode: str
) -> None:
    values = [text.format(table=db.table) for text in HOSTILE]
    config: dict[str, Any] = {"table": db.table}
    if mode == "upsert":
        config["on_conflict"] = ["id"]
    if mode == "statement":
        config = {
            "statement": f"INSERT INTO {db.table} (id, name, note) VALUES (:id, :name, :note)"
        }
    sink = await open_sink(context, db, **config)
    try:
        for number, value in enumerate(values):
            body = {"id": number, "name": value, "note": value}
            await sink.send(Message(body))
    finally:
        await sink.close()
    found = await rows(db)
    assert [r["name"] for r in found] == values
    assert [r["note"] for r in found] == values


async def test_a_nul_character_is_stored_or_refused_cleanly(context: Context, db: Database) -> None:
    sink = await open_sink(context, db, table=db.table)
    try:
        if db.kind == "postgresql":  # PostgreSQL text cannot hold NUL
            with pytest.raises(PermanentError):
                await sink.send(Message({"id": 1, "name": "a\x00b"}))
            assert await rows(db) == []
        else:
            await sink.send(Message({"id": 1, "name": "a\x00b"}))
            assert [r["name"] for r in await rows(db)] == ["a\x00b"]
    finally:
        await sink.close()


async def test_a_duplicate_key_is_permanent(context: Context, lite: Database) -> None:
    sink = await open_sink(context, lite, table=lite.table)
    try:
        await sink.send(Message({"id": 1}))
        with pytest.raises(PermanentError):
            await sink.send(Message({"id": 1}))
    finally:
        await sink.close()


async def test_bad_bodies_are_message_errors(context: Context, lite: Database) -> None:
    sink = await open_sink(context, lite, table=lite.table)
    try:
        for body in (b"not json", "text", [1, 2], {"id": 1, "nope": 2}, {"id": 1, "at": "noon"}):
            with pytest.raises(MessageError):
                await sink.send(Message(body))
    finally:
        await sink.close()


async def test_an_unknown_column_stops_the_sink_at_open(context: Context, lite: Database) -> None:
    with pytest.raises(ConfigError, match="nope"):
        await open_sink(context, lite, table=lite.table, columns=["id", "nope"])


async def test_an_unknown_table_is_permanent(context: Context, lite: Database) -> None:
    with pytest.raises(PermanentError):
        await open_sink(context, lite, table="no_such_table")


@pytest.mark.parametrize(
    "config",
    [
        {"table": "t; DROP TABLE x"},
        {"table": "t", "columns": ['a"b']},
        {"table": "t", "columns": {"x) VALUES (1); --": "x"}},
        {"table": "t", "on_conflict": ["id`"]},
        {"table": "t", "statement": "SELECT 1"},
        {"statement": "SELECT 1", "on_conflict": ["id"]},
        {"table": "t", "on_conflict": []},
    ],
)
def test_hostile_or_contradictory_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"identifier|exactly one|go with|at least"):
        registry.get("sink", "sql").parse({"url": "sqlite:///x.db", **config})


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("mysql://u@h/db", "mysql+aiomysql://u@h/db"),
        ("mariadb://u@h/db", "mysql+aiomysql://u@h/db"),
        ("sqlite:///data.db", "sqlite+aiosqlite:///data.db"),
    ],
)
def test_urls_get_their_async_driver(url: str, driver: str) -> None:
    from splice.connectors.sql._database import driver_url

    assert driver_url(url) == driver


def test_an_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        registry.get("sink", "sql").parse({"url": "oracle://u@h/db", "table": "t"})


@pytest.mark.parametrize(
    ("sqlstate", "transient"),
    [("40P01", True), ("40001", True), ("08006", True), ("57P01", True), ("23505", False)],
)
def test_errors_are_classified_by_sqlstate(sqlstate: str, transient: bool) -> None:
    from sqlalchemy.exc import DBAPIError

    from splice.connectors.sql._database import translate
    from splice.errors import is_transient

    class DriverError(Exception):
        pass

    class AdaptedError(Exception):
        pass

    cause = DriverError("deadlock detected")
    cause.sqlstate = sqlstate  # type: ignore[attr-defined]
    adapted = AdaptedError("deadlock detected")
    adapted.__cause__ = cause
    error = DBAPIError("UPDATE ...", {}, adapted)
    assert is_transient(translate(error, "writing")) is transient
