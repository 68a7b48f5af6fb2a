"""RabbitMQ helpers for the broker scenarios: declare, purge, count, preload (aiormq)."""

from __future__ import annotations

import asyncio
import os

import aiormq

URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


async def _with_channel(work):  # type: ignore[no-untyped-def]
    connection = await aiormq.connect(URL)
    try:
        channel = await connection.channel()
        return await work(channel)
    finally:
        await connection.close()


def reset(*queues: str, queue_type: str | None = None) -> None:
    """Empty each queue; with ``queue_type`` (``quorum``, ``classic``), declare it afresh as
    a durable queue of that type first (a queue's type cannot change once declared)."""

    async def work(channel):  # type: ignore[no-untyped-def]
        for queue in queues:
            if queue_type is None:  # as it is, or a classic queue if it is missing
                try:
                    await channel.queue_declare(queue, passive=True)
                except aiormq.exceptions.ChannelNotFoundEntity:
                    channel = await channel.connection.channel()
                    await channel.queue_declare(queue, durable=True)
            else:
                await channel.queue_delete(queue)
                arguments = {"x-queue-type": queue_type}
                await channel.queue_declare(queue, durable=True, arguments=arguments)
            await channel.queue_purge(queue)

    asyncio.run(_with_channel(work))


def count(queue: str) -> int:
    async def work(channel):  # type: ignore[no-untyped-def]
        ok = await channel.queue_declare(queue, passive=True)
        return ok.message_count

    return int(asyncio.run(_with_channel(work)))


def reachable() -> str | None:
    try:
        asyncio.run(_with_channel(lambda channel: asyncio.sleep(0)))
    except Exception as error:
        return f"RabbitMQ not reachable at {URL}: {error}"
    return None


def preload(queue: str, body: bytes, n: int, window: int = 1000) -> None:
    """Publish ``n`` persistent copies of ``body`` with confirms, ``window`` in flight."""

    async def work(channel):  # type: ignore[no-untyped-def]
        props = aiormq.spec.Basic.Properties(delivery_mode=2, content_type="application/json")
        sent = 0
        while sent < n:
            batch = min(window, n - sent)
            await asyncio.gather(
                *(
                    channel.basic_publish(body, routing_key=queue, properties=props)
                    for _ in range(batch)
                )
            )
            sent += batch

    asyncio.run(_with_channel(work))
