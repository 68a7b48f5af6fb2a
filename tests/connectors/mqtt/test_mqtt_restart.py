"""A Mosquitto restart mid-stream loses nothing with QoS 1 and a persistent session.

200 messages go through the sink, wrapped in the runtime's RetryingSink, while Mosquitto is
stopped (SIGTERM to the pid in its pid file: it saves its sessions) and started again; an
mqtt source with ``clean_session: false`` consumes meanwhile and must see every message.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import pytest
from mqtt_harness import require, sink, source, unique
from tests.services import reachable

from splice.message import Message
from splice.runtime.policies import OnError
from splice.runtime.retry import RetryingSink

pytestmark = pytest.mark.service

N = 200
CONFIG = "/etc/mosquitto/mosquitto.conf"
PID_FILE = Path("/run/mosquitto/mosquitto.pid")


async def restart_mosquitto() -> None:
    """Stop the broker by its pid (it saves its sessions), wait until gone, start it again."""
    os.kill(_mosquitto_pid(), signal.SIGTERM)
    await _until_reachable(False)
    await asyncio.sleep(0.5)
    await start_mosquitto()


async def start_mosquitto() -> None:
    if reachable(1883, timeout=0.2):
        return
    process = await asyncio.create_subprocess_exec("mosquitto", "-d", "-c", CONFIG)
    assert await process.wait() == 0
    await _until_reachable(True)


def _mosquitto_pid() -> int:
    return int(PID_FILE.read_text().strip())


async def _until_reachable(up: bool) -> None:
    for _ in range(300):
        if reachable(1883, timeout=0.2) == up:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"Mosquitto did not {'start' if up else 'stop'} within 15 s")


@pytest.fixture
def restartable() -> None:
    require("mqtt")
    if not PID_FILE.exists():
        pytest.skip(f"Mosquitto was not started with {CONFIG} (no {PID_FILE})")


@pytest.mark.usefixtures("restartable")
async def test_nothing_is_lost_across_a_broker_restart(tmp_path: Path) -> None:
    topic, client_id = unique("restart"), f"splice-test-{uuid.uuid4().hex[:8]}"
    policy = OnError.model_validate(
        {
            "retry": {"attempts": 1000, "initial": "50ms", "max": "1s", "max_elapsed": "120s"},
            "timeout": "10s",
            "circuit_breaker": None,
        }
    )
    settings = {
        "topics": [topic],
        "qos": 1,
        "client_id": client_id,
        "clean_session": False,
        "reconnect_initial": "100ms",
        "reconnect_max": "1s",
    }
    into = source(tmp_path, **settings)
    out = RetryingSink(sink(tmp_path, topic=topic, qos=1), policy)
    await into.open()
    await out.open()
    messages = [Message(f"m{i}".encode()) for i in range(N)]
    received: set[bytes] = set()
    all_received, fifty_sent = asyncio.Event(), asyncio.Event()
    sent = 0

    async def consume() -> None:
        async for delivery in into.deliveries():
            received.add(delivery.message.body)
            await delivery.ack()
            if len(received) == N:
                all_received.set()

    async def publish(i: int, message: Message) -> None:
        nonlocal sent
        await asyncio.sleep(i * 0.02)  # a steady stream over about 4 s
        await out.send(message)
        sent += 1
        if sent == 50:
            fifty_sent.set()

    async def restart() -> None:
        await fifty_sent.wait()
        await restart_mosquitto()

    consumer = asyncio.create_task(consume())
    try:
        async with asyncio.timeout(120):
            await asyncio.gather(restart(), *(publish(i, m) for i, m in enumerate(messages)))
            await all_received.wait()
    finally:
        await start_mosquitto()  # whatever happened, leave the broker running
        await out.close()
        await into.close()
        await consumer
        cleaner = source(tmp_path, topics=[topic], client_id=client_id, clean_session=True)
        await cleaner.open()
        await cleaner.close()
    assert received == {m.body for m in messages}
    assert any(m.attempts > 1 for m in messages), "no send was retried: no restart mid-stream"
