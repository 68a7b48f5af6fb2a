"""The polling and NOTIFY sources against real PostgreSQL, MariaDB and SQLite."""

from __future__ import annotations

import asyncio
import decimal
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sql_harness import Database

from splice.components import registry
from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.connectors.sql import SqlSource, SqlSourceConfig, json_value
from splice.errors import MessageError, TransientError


def source(context: Context, db: Database, **config: Any) -> SqlSource:
    values = {
        "url": db.url,
        "table": db.table,
        "watermark": "id",
        "poll_interval": "50ms",
        "settle_timeout": "200ms",
    }
    return SqlSource(SqlSourceConfig.model_validate({**values, **config}), context)


async def take(iterator: AsyncIterator[Delivery], count: int, within: float = 5) -> list[Delivery]:
    async with asyncio.timeout(within):
        return [await anext(iterator) for _ in range(count)]


async def nothing_more(iterator: AsyncIterator[Delivery]) -> None:
    with pytest.raises(TimeoutError):
        await take(iterator, 1, within=0.4)


async def insert(db: Database, *ids: int) -> None:
    rows = [{"id": i, "name": f"row {i}", "amount": "1.5", "at": None} for i in ids]
    await db.execute(
        f"INSERT INTO {db.table} (id, name, amount, at) VALUES (:id, :name, :amount, :at)",
        *rows,
    )


async def test_each_new_row_is_a_message_of_json_data(context: Context, db: Database) -> None:
    await db.execute(
        f"INSERT INTO {db.table} (id, name, amount, at) VALUES "
        "(1, 'a', 12.5, '2026-01-02 03:04:05'), (2, 'b', 0.1, NULL)"
    )
    src = source(context, db, columns=["id", "name", "amount", "at"])
    await src.open()
    try:
        first, second = await take(aiter(src.deliveries()), 2)
    finally:
        await src.close()
    assert first.message.body == {
        "id": 1,
        "name": "a",
        "amount": 12.5,
        "at": "2026-01-02T03:04:05",
    }
    assert second.message.body["amount"] in ("0.1000", "0.1")  # inexact as float: exact text
    assert first.message.headers["sql.table"] == db.table


async def test_a_restarted_source_resumes_after_the_last_acked_row(
    context: Context, db: Database
) -> None:
    await insert(db, 1, 2, 3)
    src = source(context, db)
    await src.open()
    rows = await take(aiter(src.deliveries()), 3)
    for delivery in rows:
        await delivery.ack()
    await src.close()
    await insert(db, 4, 5)
    again = source(context, db)
    await again.open()
    try:
        iterator = aiter(again.deliveries())
        new = await take(iterator, 2)
        assert [d.message.body["id"] for d in new] == [4, 5]
        await nothing_more(iterator)
    finally:
        await again.close()


async def test_the_watermark_moves_only_past_contiguous_acks(
    context: Context, lite: Database
) -> None:
    await insert(lite, 1, 2, 3)
    src = source(context, lite, settle_timeout=0)
    await src.open()
    one, _two, three = await take(aiter(src.deliveries()), 3)
    await one.ack()
    await three.ack()  # row 2 never settled: a crash
    await src.close()
    again = source(context, lite)
    await again.open()
    try:
        rows = await take(aiter(again.deliveries()), 2)
        assert [d.message.body["id"] for d in rows] == [2, 3]
    finally:
        await again.close()


async def test_a_transient_nack_rereads_and_a_bad_message_is_passed(
    context: Context, lite: Database
) -> None:
    await insert(lite, 1, 2)
    src = source(context, lite)
    await src.open()
    try:
        iterator = aiter(src.deliveries())
        one, two = await take(iterator, 2)
        await one.nack(MessageError("bad row"))
        await two.nack(TransientError("sink down"))
        [again] = await take(iterator, 1)
        assert again.message.body["id"] == 2
        await again.ack()
        await nothing_more(iterator)
    finally:
        await src.close()
    state = await lite.execute("SELECT position FROM splice_watermarks WHERE name LIKE '%'")
    assert any(row["position"].startswith("[2,") for row in state)


async def test_a_nack_mid_batch_rereads_before_handing_out_the_rest(
    context: Context, lite: Database
) -> None:
    await insert(lite, 1, 2, 3)
    src = source(context, lite)
    await src.open()
    try:
        iterator = aiter(src.deliveries())
        one, two = await take(iterator, 2)
        await one.nack(TransientError("sink down"))
        await two.ack()  # read before the rewind: it comes again
        rows = await take(iterator, 3)
        assert [d.message.body["id"] for d in rows] == [1, 2, 3]
        for delivery in rows:
            await delivery.ack()
        await nothing_more(iterator)
    finally:
        await src.close()
    [state] = await lite.execute("SELECT position FROM splice_watermarks")
    assert state["position"].startswith("[3,")


async def test_repeated_timestamps_are_ordered_by_the_key(context: Context, lite: Database) -> None:
    for i in (3, 1, 2):
        await lite.execute(
            f"INSERT INTO {lite.table} (id, at) VALUES (:id, '2026-01-01 00:00:00.000000')",
            {"id": i},
        )
    src = source(context, lite, watermark="at", key="id", batch=2)
    await src.open()
    try:
        iterator = aiter(src.deliveries())
        rows = await take(iterator, 3)
        assert [d.message.body["id"] for d in rows] == [1, 2, 3]
        for delivery in rows:
            await delivery.ack()
    finally:
        await src.close()
    await lite.execute(
        f"INSERT INTO {lite.table} (id, at) VALUES (4, '2026-01-01 00:00:00.000000'), "
        "(0, '2026-01-01 00:00:01.000000')"
    )
    again = source(context, lite, watermark="at", key="id")
    await again.open()
    try:
        rows = await take(aiter(again.deliveries()), 2)
        assert [d.message.body["id"] for d in rows] == [4, 0]
    finally:
        await again.close()


async def test_notifications_become_messages(context: Context, pg: Database) -> None:
    channel = pg.table
    src = SqlSource(SqlSourceConfig(url=pg.url, listen=channel), context)
    await src.open()
    try:
        iterator = aiter(src.deliveries())
        pulled = asyncio.create_task(take(iterator, 1))
        await asyncio.sleep(0.2)
        await pg.execute("SELECT pg_notify(:c, :p)", {"c": channel, "p": '{"id": 7}'})
        [delivery] = await pulled
        assert delivery.message.body == b'{"id": 7}'
        assert delivery.message.headers["sql.channel"] == channel
    finally:
        await src.close()


async def test_a_notification_wakes_the_polling(context: Context, pg: Database) -> None:
    src = source(context, pg, listen=pg.table, poll_interval="1h")
    await src.open()
    try:
        iterator = aiter(src.deliveries())
        pulled = asyncio.create_task(take(iterator, 1, within=5))
        await asyncio.sleep(0.3)
        await insert(pg, 1)
        await pg.execute("SELECT pg_notify(:c, '')", {"c": pg.table})
        [delivery] = await pulled
        assert delivery.message.body["id"] == 1
    finally:
        await src.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (decimal.Decimal("1.5"), 1.5),
        (decimal.Decimal("0.1"), "0.1"),
        (decimal.Decimal("12345678901234567890.01"), "12345678901234567890.01"),
        (b"\x00\xff", "AP8="),
    ],
)
def test_values_become_json_without_losing_precision(value: Any, expected: Any) -> None:
    assert json_value(value) == expected


@pytest.mark.parametrize(
    "config",
    [
        {"table": "orders; DROP TABLE x", "watermark": "id"},
        {"table": "a.b.c", "watermark": "id"},
        {"table": "orders", "watermark": 'id"--'},
        {"table": "orders", "watermark": "id", "columns": ["name, (SELECT 1)"]},
        {"listen": "x; DROP TABLE y"},
        {"table": "orders"},
        {},
    ],
)
def test_hostile_or_missing_names_are_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"identifier|table|watermark|give"):
        registry.get("source", "sql").parse({"url": "postgresql://x@h/db", **config})


def test_listen_needs_postgresql() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        registry.get("source", "sql").parse({"url": "sqlite:///x.db", "listen": "c"})
