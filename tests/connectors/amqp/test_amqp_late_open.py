"""A flow whose AMQP broker is down at start starts anyway: its sink connects on the first
send, its source starts consuming, once the broker is reachable (the real RabbitMQ, behind a
port the test opens only after the engine started)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from amqp_harness import Broker
from tests.relay import free_port, open_relay
from tests.runtime.engine_harness import eventually, files, start, write

pytestmark = pytest.mark.service


async def test_a_flow_starts_with_its_broker_down_and_publishes_once_it_is_up(
    rabbit: Broker, tmp_path: Path
) -> None:
    port, queue = free_port(), rabbit.queue("late")
    root = write(
        tmp_path,
        {
            "splice.yaml": "project: late-open\nhttp: {host: 127.0.0.1, port: 0}\n",
            "flows/to-queue.yaml": f"""
                integration: to-queue
                description: POST a message, publish it with confirms.
                owner: tests
                source:
                  http: {{path: /in, method: POST, reply: sync}}
                sinks:
                  out:
                    amqp:
                      url: amqp://guest:guest@127.0.0.1:{port}/
                      routing_key: {queue}
                      connect_timeout: 2
                      declare: {{queues: [{{name: {queue}}}]}}
            """,
        },
    )
    engine = await start(root)  # the broker is not reachable on that port yet
    relay = await open_relay(port, 5672)
    try:
        http_port = engine.shared.peek("http.server").port
        async with httpx.AsyncClient(timeout=30) as client:
            reply = await client.post(f"http://127.0.0.1:{http_port}/in", content=b"order-1")
        assert reply.status_code == 200, reply.text
        assert await rabbit.ready(queue) == 1
    finally:
        await engine.stop()
        relay.close()
        await relay.wait_closed()


async def test_a_flow_consumes_once_its_broker_is_up(rabbit: Broker, tmp_path: Path) -> None:
    port, queue = free_port(), rabbit.queue("late-source")
    await rabbit.channel.queue_declare(queue, durable=True)
    root = write(
        tmp_path,
        {
            "splice.yaml": "project: late-source\n",
            "flows/from-queue.yaml": f"""
                integration: from-queue
                description: Consume a queue into files.
                owner: tests
                source:
                  amqp:
                    url: amqp://guest:guest@127.0.0.1:{port}/
                    queue: {queue}
                    connect_timeout: 2
                    reconnect_initial: 0.1
                    reconnect_max: 0.5
                sinks:
                  out: {{file: {{path: out}}}}
            """,
        },
    )
    engine = await start(root)  # the broker is not reachable on that port yet
    relay = await open_relay(port, 5672)
    try:
        await rabbit.channel.basic_publish(b"order-1", routing_key=queue)
        await eventually(lambda: len(files(root / "out")) == 1, timeout=30)
        [name] = files(root / "out")
        assert (root / "out" / name).read_bytes() == b"order-1"
        assert await rabbit.ready(queue) == 0
    finally:
        await engine.stop()
        relay.close()
        await relay.wait_closed()
