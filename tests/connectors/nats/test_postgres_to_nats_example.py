"""examples/postgres-to-nats, end to end in the engine: new rows -> map -> JetStream.

The project is copied as it is, with only the table, stream and subject renamed so that
the test has its own.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
from nats_harness import ROOT, URL, require
from tests.runtime.engine_harness import eventually, start
from ulid import ULID

from splice.connectors.sql._database import driver_url

EXAMPLE = ROOT / "examples" / "postgres-to-nats"
DATABASE = "postgresql://postgres@127.0.0.1:5432/test"


def copy_project(tmp_path: Path, unique: str) -> Path:
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root)
    flow = root / "flows" / "new-orders.yaml"
    text = flow.read_text()
    for old in ("shop_orders", "SHOP_ORDERS", "shop.orders"):
        text = text.replace(old, f"{old}_{unique}")
    flow.write_text(text)
    return root


async def sql(statement: str, **values: Any) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(driver_url(DATABASE))
    async with engine.begin() as conn:
        await conn.execute(text(statement), values or None)
    await engine.dispose()


async def test_new_rows_become_events_on_jetstream(tmp_path: Path) -> None:
    require("postgresql")
    require("nats")
    import nats

    unique = str(ULID()).lower()
    table, stream = f"shop_orders_{unique}", f"SHOP_ORDERS_{unique}"
    schema = (EXAMPLE / "schema.sql").read_text().replace("shop_orders", table)
    await sql(schema.split(";")[0].split("\n", 1)[1])
    root = copy_project(tmp_path, unique)
    client = await nats.connect(URL)
    engine = await start(root)
    try:
        await sql(
            f"INSERT INTO {table} (customer, total, placed_at) VALUES "
            "('Ada', 12.50, '2026-01-02T03:04:05Z'), ('Bob', 0.10, '2026-01-02T03:04:06Z')"
        )
        js = client.jetstream()

        async def published() -> bool:
            try:
                return (await js.stream_info(stream)).state.messages == 2
            except Exception:
                return False

        await eventually(published, timeout=15)
        events = [orjson.loads((await js.get_msg(stream, seq)).data) for seq in (1, 2)]
    finally:
        await engine.stop()
        await client.jetstream().delete_stream(stream)
        await client.close()
        await sql(f"DROP TABLE {table}")
        await sql("DELETE FROM splice_watermarks WHERE name LIKE :n", n=f"%{table}%")
    assert events == [
        {
            "type": "order.created",
            "orderId": 1,
            "customer": "Ada",
            "total": 12.5,
            "placedAt": "2026-01-02T03:04:05+00:00",
        },
        {
            "type": "order.created",
            "orderId": 2,
            "customer": "Bob",
            "total": "0.10",
            "placedAt": "2026-01-02T03:04:06+00:00",
        },
    ]
