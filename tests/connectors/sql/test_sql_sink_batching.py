"""Group commit in the SQL sink: concurrent sends share transactions, keep their order, and
a message that cannot be written fails alone."""

from __future__ import annotations

import asyncio

from sql_harness import Database
from test_sql_sink import open_sink, rows

from splice.components.context import Context
from splice.errors import PermanentError
from splice.message import Message


async def test_concurrent_upserts_keep_their_order(context: Context, db: Database) -> None:
    sink = await open_sink(context, db, table=db.table, on_conflict=["id"])
    try:
        await asyncio.gather(
            *(sink.send(Message({"id": i % 5, "name": f"v{i}"})) for i in range(50)),
            sink.send(Message([{"id": 7, "name": "a"}, {"id": 7, "name": "b"}])),
        )
    finally:
        await sink.close()
    found = {r["id"]: r["name"] for r in await rows(db)}
    assert found == {0: "v45", 1: "v46", 2: "v47", 3: "v48", 4: "v49", 7: "b"}


async def test_a_bad_message_among_concurrent_ones_fails_alone(
    context: Context, db: Database
) -> None:
    sink = await open_sink(context, db, table=db.table)
    try:
        bodies = [{"id": i, "name": f"n{i}"} for i in range(20)]
        bodies.insert(12, {"id": 5, "name": "again"})  # a duplicate key: the insert fails
        results = await asyncio.gather(
            *(sink.send(Message(body)) for body in bodies), return_exceptions=True
        )
    finally:
        await sink.close()
    failed = [body for body, result in zip(bodies, results, strict=True) if result is not None]
    assert failed == [{"id": 5, "name": "again"}]
    assert isinstance(results[12], PermanentError)
    assert [(r["id"], r["name"]) for r in await rows(db)] == [(i, f"n{i}") for i in range(20)]


async def test_concurrent_sends_share_transactions(context: Context, pg: Database) -> None:
    sink = await open_sink(context, pg, table=pg.table)
    try:
        await asyncio.gather(*(sink.send(Message({"id": i})) for i in range(50)))
    finally:
        await sink.close()
    # rows written by one transaction carry its id in xmin
    [row] = await pg.execute(f"SELECT count(DISTINCT xmin::text) AS n FROM {pg.table}")
    assert 1 <= row["n"] < 10


async def test_a_send_given_up_before_its_batch_is_taken_is_not_written(
    context: Context, lite: Database
) -> None:
    sink = await open_sink(context, lite, table=lite.table)
    try:
        first = asyncio.ensure_future(sink.send(Message({"id": 1})))
        await asyncio.sleep(0)  # the first transaction starts
        second = asyncio.ensure_future(sink.send(Message({"id": 2})))
        await asyncio.sleep(0)  # the second message waits for the next transaction
        assert len(sink._batches._waiting) == 1
        second.cancel()  # as a timeout would
        await first
        await sink.send(Message({"id": 3}))
    finally:
        await sink.close()
    assert second.cancelled()
    assert [r["id"] for r in await rows(lite)] == [1, 3]
