"""Messages per second through the broker connectors on this machine (not a test).

    .venv/bin/python bench/amqp_throughput.py [--messages 20000] [--mqtt-messages 10000]

1. RabbitMQ -> decode, map, encode -> RabbitMQ with publisher confirms, run by the engine
   (`splice.runtime.engine.Engine`) as a flow file; timed from engine start until the
   output queue holds every message.
2. The amqp sink alone (confirmed publishes, 64 concurrent sends) and the amqp source
   alone (consume and ack).
3. MQTT QoS 1: the mqtt sink publishing (64 concurrent sends) while an mqtt source
   consumes with manual acks.

Needs RabbitMQ on 127.0.0.1:5672 (guest/guest) and Mosquitto on 127.0.0.1:1883.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import aiormq
import orjson

from splice.components.context import Context
from splice.components.registry import get
from splice.config import load_project
from splice.message import Message
from splice.runtime.engine import Engine

URL = "amqp://guest:guest@127.0.0.1:5672/"
CONCURRENCY = 64
MQTT_CONCURRENCY = 10
MQTT_WINDOW = 500
"""Mosquitto drops QoS 1 messages for a subscriber more than ``max_queued_messages`` (1000)
behind: the end-to-end publisher stays at most this many messages ahead of the consumer."""

FLOW = """
integration: bench-amqp
owner: bench
steward: bench@example.com
source:
  amqp: {{queue: {inbox}, prefetch: 500}}
steps:
  - decode: json
  - map: '{{"id": id, "total": qty * price, "customer": $uppercase(customer)}}'
  - encode: json
sinks:
  out:
    amqp: {{routing_key: {outbox}, confirm: true, persistent: true}}
"""


def build(kind: str, name: str, raw: dict[str, object]) -> object:
    spec = get(kind, name)  # type: ignore[arg-type]
    return spec.build(spec.parse(raw), Context(project_dir=Path("."), flow="bench"))


async def fill(channel: aiormq.abc.AbstractChannel, queue: str, count: int) -> None:
    body = orjson.dumps({"id": 1, "qty": 3, "price": 2.5, "customer": "acme"})
    sem = asyncio.Semaphore(256)

    async def one() -> None:
        async with sem:
            await channel.basic_publish(body, routing_key=queue)

    await asyncio.gather(*(one() for _ in range(count)))


async def ready(channel: aiormq.abc.AbstractChannel, queue: str) -> int:
    declared = await channel.queue_declare(queue, passive=True)
    return int(declared.message_count or 0)


async def until_ready(channel: aiormq.abc.AbstractChannel, queue: str, count: int) -> None:
    for _ in range(100_000):
        if await ready(channel, queue) >= count:
            return
        await asyncio.sleep(0.05)


async def flow_rate(channel: aiormq.abc.AbstractChannel, count: int) -> float:
    inbox, outbox = f"bench-in-{uuid.uuid4().hex[:8]}", f"bench-out-{uuid.uuid4().hex[:8]}"
    for queue in (inbox, outbox):
        await channel.queue_declare(queue, durable=True)
    try:
        await fill(channel, inbox, count)
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            (root / "splice.yaml").write_text("project: bench\n")
            (root / "flows").mkdir()
            flow = FLOW.format(inbox=inbox, outbox=outbox)
            (root / "flows" / "bench.yaml").write_text(textwrap.dedent(flow))
            engine = Engine(load_project(root))
            started = time.perf_counter()
            await engine.start()
            try:
                await until_ready(channel, outbox, count)
                elapsed = time.perf_counter() - started
            finally:
                await engine.stop()
        return count / elapsed
    finally:
        for queue in (inbox, outbox):
            await channel.queue_delete(queue)


async def sink_and_source_rates(
    channel: aiormq.abc.AbstractChannel, count: int
) -> tuple[float, float]:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    await channel.queue_declare(queue, durable=True)
    sink = build("sink", "amqp", {"routing_key": queue})
    source = build("source", "amqp", {"queue": queue, "prefetch": 500})
    try:
        await sink.open()  # type: ignore[attr-defined]
        sem = asyncio.Semaphore(CONCURRENCY)

        async def send(i: int) -> None:
            async with sem:
                await sink.send(Message(b'{"n": %d}' % i))  # type: ignore[attr-defined]

        started = time.perf_counter()
        await asyncio.gather(*(send(i) for i in range(count)))
        publish = count / (time.perf_counter() - started)
        await source.open()  # type: ignore[attr-defined]
        started = time.perf_counter()
        seen = 0
        async for delivery in source.deliveries():  # type: ignore[attr-defined]
            await delivery.ack()
            seen += 1
            if seen == count:
                break
        consume = count / (time.perf_counter() - started)
        return publish, consume
    finally:
        await source.close()  # type: ignore[attr-defined]
        await sink.close()  # type: ignore[attr-defined]
        await channel.queue_delete(queue)


async def mqtt_publish_rate(count: int) -> float:
    """QoS 1 publishes confirmed by the broker, with nobody subscribed."""
    sink = build("sink", "mqtt", {"topic": f"splice-bench/{uuid.uuid4().hex[:8]}", "qos": 1})
    await sink.open()  # type: ignore[attr-defined]
    sem = asyncio.Semaphore(CONCURRENCY)

    async def send(i: int) -> None:
        async with sem:
            await sink.send(Message(b'{"n": %d}' % i))  # type: ignore[attr-defined]

    try:
        started = time.perf_counter()
        await asyncio.gather(*(send(i) for i in range(count)))
        return count / (time.perf_counter() - started)
    finally:
        await sink.close()  # type: ignore[attr-defined]


async def mqtt_end_to_end_rate(count: int) -> float:
    """QoS 1 publish -> subscribe -> ack, the publisher at most WINDOW messages ahead."""
    topic = f"splice-bench/{uuid.uuid4().hex[:8]}"
    source = build("source", "mqtt", {"topics": [topic], "qos": 1})
    sink = build("sink", "mqtt", {"topic": topic, "qos": 1})
    await source.open()  # type: ignore[attr-defined]
    await sink.open()  # type: ignore[attr-defined]
    window = asyncio.Semaphore(MQTT_WINDOW)
    done = asyncio.Event()

    async def consume() -> None:
        seen = 0
        async for delivery in source.deliveries():  # type: ignore[attr-defined]
            await delivery.ack()
            window.release()
            seen += 1
            if seen == count:
                done.set()
                return

    consumer = asyncio.create_task(consume())
    sem = asyncio.Semaphore(MQTT_CONCURRENCY)

    async def send(i: int) -> None:
        await window.acquire()
        async with sem:
            await sink.send(Message(b'{"n": %d}' % i))  # type: ignore[attr-defined]

    try:
        started = time.perf_counter()
        await asyncio.gather(*(send(i) for i in range(count)))
        await asyncio.wait_for(done.wait(), 120)
        return count / (time.perf_counter() - started)
    finally:
        await sink.close()  # type: ignore[attr-defined]
        await source.close()  # type: ignore[attr-defined]
        await consumer


async def main(messages: int, mqtt_messages: int) -> None:
    connection = aiormq.Connection(URL)
    await connection.connect()
    try:
        channel = await connection.channel()
        rate = await flow_rate(channel, messages)
        print(f"RabbitMQ -> map -> RabbitMQ (engine, confirms): {rate:,.0f} msg/s ({messages})")
        publish, consume = await sink_and_source_rates(channel, messages)
        print(f"amqp sink, confirmed publishes ({CONCURRENCY} concurrent): {publish:,.0f} msg/s")
        print(f"amqp source, consume + ack: {consume:,.0f} msg/s")
    finally:
        await connection.close()
    publish = await mqtt_publish_rate(mqtt_messages)
    print(f"mqtt sink QoS 1 ({CONCURRENCY} concurrent): {publish:,.0f} msg/s ({mqtt_messages})")
    end_to_end = await mqtt_end_to_end_rate(mqtt_messages)
    print(f"mqtt QoS 1 sink -> source + ack, end to end: {end_to_end:,.0f} msg/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--mqtt-messages", type=int, default=10000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.messages, arguments.mqtt_messages))
