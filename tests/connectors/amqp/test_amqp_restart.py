"""A RabbitMQ restart mid-stream loses nothing: the sink's errors are retried, the source resumes.

200 messages go through the sink, wrapped in the runtime's RetryingSink, while
``rabbitmqctl stop_app`` / ``start_app`` runs; an amqp source consumes meanwhile. Every
message must arrive at least once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from amqp_harness import broker, require, sink, source

from splice.message import Message
from splice.runtime.policies import OnError
from splice.runtime.retry import RetryingSink

pytestmark = pytest.mark.service

N = 200


async def rabbitmqctl(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "rabbitmqctl", "-q", *args, stdout=asyncio.subprocess.DEVNULL
    )
    assert await process.wait() == 0, f"rabbitmqctl {' '.join(args)} failed"


async def test_nothing_is_lost_across_a_broker_restart(tmp_path: Path) -> None:
    require("rabbitmq")
    policy = OnError.model_validate(
        {
            "retry": {"attempts": 1000, "initial": "50ms", "max": "1s", "max_elapsed": "120s"},
            "timeout": "10s",
            "circuit_breaker": None,
        }
    )
    async with broker() as rabbit:
        queue = rabbit.queue("restart")
        declare = {"queues": [{"name": queue, "durable": True}]}
        out = RetryingSink(sink(tmp_path, routing_key=queue, declare=declare), policy)
        into = source(
            tmp_path, queue=queue, declare=declare, reconnect_initial="100ms", reconnect_max="1s"
        )
        await out.open()
        await into.open()
        received: set[bytes] = set()

        async def consume() -> None:
            async for delivery in into.deliveries():
                received.add(delivery.message.body)
                await delivery.ack()
                if len(received) == N:
                    all_received.set()

        all_received = asyncio.Event()
        consumer = asyncio.create_task(consume())
        limit = asyncio.Semaphore(10)
        messages = [Message(f"m{i}".encode()) for i in range(N)]
        sent = 0
        fifty_sent = asyncio.Event()

        async def publish(i: int, message: Message) -> None:
            nonlocal sent
            await asyncio.sleep(i * 0.03)  # a steady stream over about 6 s
            async with limit:
                await out.send(message)
                sent += 1
                if sent == 50:
                    fifty_sent.set()

        async def restart() -> None:
            await fifty_sent.wait()
            await rabbitmqctl("stop_app")
            await asyncio.sleep(1)
            await rabbitmqctl("start_app")

        try:
            async with asyncio.timeout(180):
                await asyncio.gather(restart(), *(publish(i, m) for i, m in enumerate(messages)))
                await all_received.wait()
        finally:
            await rabbitmqctl("start_app")  # whatever happened, leave the broker running
            await into.close()
            await consumer
            await out.close()
        assert received == {f"m{i}".encode() for i in range(N)}
        retried = [m for m in messages if m.attempts > 1]
        assert retried, "the restart did not happen mid-stream: no send was retried"
