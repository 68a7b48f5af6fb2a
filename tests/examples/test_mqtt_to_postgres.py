"""examples/mqtt-to-postgres end to end: real Mosquitto, real PostgreSQL, the real engine.

The project is copied to a temporary folder with a table and an MQTT client id of its own,
so runs never share state. ``SPLICE_PG_URL`` overrides the database (default: the local
PostgreSQL CI starts).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import asyncpg
import pytest
from tests.runtime.engine_harness import eventually
from tests.services import require

from splice.config import load_project
from splice.runtime.engine import Engine

pytestmark = pytest.mark.service

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mqtt-to-postgres"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def project(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    require("mqtt")
    require("postgresql")
    url = os.environ.get("SPLICE_PG_URL", DEFAULT_URL)
    run = uuid.uuid4().hex[:10]
    table = f"sensor_readings_{run}"
    client_id = f"splice-test-readings-{run}"
    root = tmp_path / "mqtt-to-postgres"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    (root / "config" / "postgres.url").write_text(url + "\n")
    flow = root / "flows" / "sensor-readings.yaml"
    text = flow.read_text()
    assert "table: sensor_readings\n" in text and "client_id: splice-sensor-readings\n" in text
    flow.write_text(
        text.replace("table: sensor_readings\n", f"table: {table}\n").replace(
            "client_id: splice-sensor-readings\n", f"client_id: {client_id}\n"
        )
    )
    db = await asyncpg.connect(url)
    try:
        ddl = (EXAMPLE / "schema.sql").read_text().replace("sensor_readings", table)
        await db.execute(ddl)
        # The persistent session exists before the flow starts: nothing published is lost.
        async with aiomqtt.Client("127.0.0.1", identifier=client_id, clean_session=False) as c:
            await c.subscribe("sensors/+/reading", qos=1)
        yield {"root": root, "db": db, "table": table, "run": run}
    finally:
        await db.execute(f'DROP TABLE IF EXISTS "{table}"')
        await db.close()
        # Forget the broker-side session of this run.
        async with aiomqtt.Client("127.0.0.1", identifier=client_id, clean_session=True):
            pass


async def publish(readings: list[tuple[str, Any]]) -> None:
    async with aiomqtt.Client("127.0.0.1") as client:
        for device, payload in readings:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            await client.publish(f"sensors/{device}/reading", data, qos=1)


async def test_readings_are_upserted_into_postgres(project: dict[str, Any]) -> None:
    db, table, run = project["db"], project["table"], project["run"]
    boiler, hall = f"boiler-{run}", f"hall-{run}"

    async def rows() -> list[tuple[str, str, float, str]]:
        found = await db.fetch(
            f"SELECT device, to_char(ts AT TIME ZONE 'UTC', 'HH24:MI:SS') AS t, value, unit "
            f'FROM "{table}" ORDER BY device, ts'
        )
        return [(r["device"], r["t"], r["value"], r["unit"]) for r in found]

    engine = Engine(load_project(project["root"]))
    await engine.start()
    try:
        await publish(
            [
                (boiler, {"value": 21.5, "unit": "C", "ts": "2026-01-02T03:04:05Z"}),
                (boiler, {"value": 22.0, "unit": "C", "ts": "2026-01-02T03:05:05Z"}),
                (hall, {"value": 40, "unit": "%RH", "ts": "2026-01-02T03:04:05Z"}),
                (hall, {"value": 40, "ts": "2026-01-02T03:04:06Z"}),  # no unit: dead-lettered
                (hall, b"not json"),  # dead-lettered
            ]
        )
        expected = [
            (boiler, "03:04:05", 21.5, "C"),
            (boiler, "03:05:05", 22.0, "C"),
            (hall, "03:04:05", 40.0, "%RH"),
        ]

        async def arrived() -> bool:
            return await rows() == expected

        await eventually(arrived, timeout=30)

        # The same reading again (a redelivery, or a correction) updates its row.
        await publish([(boiler, {"value": 23.5, "unit": "C", "ts": "2026-01-02T03:04:05Z"})])
        expected[0] = (boiler, "03:04:05", 23.5, "C")
        await eventually(arrived, timeout=30)
    finally:
        await engine.stop()
    assert await rows() == expected
