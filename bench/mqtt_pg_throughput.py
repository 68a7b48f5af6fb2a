"""Rows per second from MQTT into PostgreSQL through examples/mqtt-to-postgres (not a test).

    .venv/bin/python bench/mqtt_pg_throughput.py [--readings 10000] [--window 800]

The example project is copied to a temporary folder with a table, an MQTT client id and a
topic prefix of its own, and run with ``splice run`` pinned to core 0. Once a first reading
has arrived (the flow is subscribed), N readings are published with QoS 1, each with its own
(device, ts), at most ``--window`` ahead of the rows already in the table: Mosquitto drops
QoS 1 messages for a subscriber more than ``max_queued_messages`` (1000) behind. The rate
is rows counted in the table per second, from the first reading of the run to the last;
the splice process's CPU seconds are reported alongside.

Needs Mosquitto on 127.0.0.1:1883 and PostgreSQL on 127.0.0.1:5432 (database ``test``;
BENCH_PG_URL overrides).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "mqtt-to-postgres"
SPLICE = str(ROOT / ".venv" / "bin" / "splice")
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
START = datetime(2026, 1, 1, tzinfo=UTC)


def project_copy(folder: Path, run: str) -> tuple[Path, str, str]:
    """The example with its own table, client id and topic prefix: (root, table, prefix)."""
    root = folder / "mqtt-to-postgres"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    (root / "config" / "postgres.url").write_text(PG_URL + "\n")
    table, prefix = f"bench_readings_{run}", f"bench-{run}"
    flow = root / "flows" / "sensor-readings.yaml"
    text = flow.read_text()
    for old, new in (
        ("table: sensor_readings\n", f"table: {table}\n"),
        ("client_id: splice-sensor-readings\n", f"client_id: splice-bench-{run}\n"),
        ("topics: [sensors/+/reading]", f"topics: [{prefix}/+/reading]"),
    ):
        if old not in text:
            sys.exit(f"{flow}: expected {old.strip()!r}; update bench/mqtt_pg_throughput.py")
        text = text.replace(old, new)
    flow.write_text(text)
    return root, table, prefix


def reading(i: int) -> bytes:
    ts = (START + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
    return json.dumps({"value": 20 + i % 10, "unit": "C", "ts": ts}).encode()


async def rows(db: asyncpg.Connection, table: str) -> int:
    return int(await db.fetchval(f'SELECT count(*) FROM "{table}"'))


async def wait_for_rows(db: asyncpg.Connection, table: str, count: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while await rows(db, table) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {await rows(db, table)} of {count} rows in {table}")
        await asyncio.sleep(0.05)


async def publish_paced(
    db: asyncpg.Connection, table: str, prefix: str, count: int, window: int
) -> tuple[float, float]:
    """Publish ``count`` readings (device ``d<i % 50>``); return (first, last) row times."""
    arrived = 1  # the warm-up reading
    first = last = 0.0
    async with aiomqtt.Client("127.0.0.1") as client:
        sent = 0
        while arrived < count + 1:
            while sent < count and sent - (arrived - 1) < window:
                device = f"d{sent % 50}"
                await client.publish(f"{prefix}/{device}/reading", reading(sent + 1), qos=1)
                sent += 1
            now_rows = await rows(db, table)
            now = time.perf_counter()
            if now_rows > arrived and not first:
                first = now
            if now_rows > arrived:
                last = now
            arrived = now_rows
            await asyncio.sleep(0.02)
    return first, last


async def measure(count: int, window: int) -> None:
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as folder:
        root, table, prefix = project_copy(Path(folder), run)
        db = await asyncpg.connect(PG_URL)
        ddl = (EXAMPLE / "schema.sql").read_text().replace("sensor_readings", table)
        await db.execute(ddl)
        log_path = Path(folder) / "splice.log"
        splice = start_splice(root, log_path)
        try:
            async with aiomqtt.Client("127.0.0.1") as client:
                for _ in range(300):  # until the flow is subscribed and writing
                    await client.publish(f"{prefix}/warmup/reading", reading(0), qos=1)
                    if await rows(db, table):
                        break
                    await asyncio.sleep(0.1)
            await wait_for_rows(db, table, 1, 5)
            cpu_before = cpu_seconds(splice.pid)
            first, last = await publish_paced(db, table, prefix, count, window)
            cpu = cpu_seconds(splice.pid) - cpu_before
        finally:
            splice.terminate()
            splice.wait()
            await db.execute(f'DROP TABLE IF EXISTS "{table}"')
            await db.close()
        if splice.returncode not in (0, -15):
            print(log_path.read_text()[-2000:])
    rate = (count - 1) / (last - first) if last > first else float("nan")
    print(
        f"MQTT QoS 1 -> decode, validate, map -> PostgreSQL upsert: {rate:,.0f} rows/s "
        f"({count} readings, window {window}); splice CPU {cpu:.1f}s = "
        f"{cpu / count * 1e6:,.0f} us/row"
    )


def start_splice(root: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """``splice run`` on the project, pinned to core 0, its output in ``log_path``."""
    command = [SPLICE, "run", str(root), "--log-level", "warning", "--port", "0"]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    with log_path.open("w") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=10000)
    parser.add_argument("--window", type=int, default=800)
    arguments = parser.parse_args()
    asyncio.run(measure(arguments.readings, arguments.window))
