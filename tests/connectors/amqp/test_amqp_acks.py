"""Batched acks against the real RabbitMQ: out of order, mixed with rejects, never stalling.

The source acks with ``multiple=true`` (see ``splice/connectors/amqp/_acks.py``); an ack
that covered a rejected tag would swallow the dead letter, and one naming a tag the broker
no longer holds closes the channel (the messages would then come back).
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from amqp_harness import Broker, pull, sink, source

from splice.errors import MessageError, TransientError
from splice.message import Message

pytestmark = pytest.mark.service


def dead_lettered(rabbit: Broker) -> tuple[str, str, dict[str, object]]:
    queue, dead, dlx = rabbit.queue(), rabbit.queue("dead"), rabbit.exchange("dlx")
    declare = {
        "exchanges": [{"name": dlx, "type": "fanout", "durable": False}],
        "queues": [
            {"name": dead, "durable": False},
            {"name": queue, "durable": False, "arguments": {"x-dead-letter-exchange": dlx}},
        ],
        "bindings": [{"queue": dead, "exchange": dlx}],
    }
    return queue, dead, declare


async def test_acks_in_any_order_with_rejects_settle_every_message(
    rabbit: Broker, tmp_path: Path
) -> None:
    queue, dead, declare = dead_lettered(rabbit)
    out = sink(tmp_path, routing_key=queue, declare=declare)
    into = source(tmp_path, queue=queue, declare=declare, prefetch=100)
    await out.open()
    await into.open()
    try:
        await asyncio.gather(*(out.send(Message(f"m{i}".encode())) for i in range(40)))
        deliveries = await pull(into, 40)
        random.Random(7).shuffle(deliveries)
        bad = {b"m3", b"m17", b"m39"}
        for delivery in deliveries:
            if delivery.message.body in bad:
                await delivery.nack(MessageError("not an order"))
            else:
                await delivery.ack()
    finally:
        await into.close()  # at once: the acks still waiting are sent before closing
        await out.close()
    assert await rabbit.ready(queue) == 0
    letters = [await rabbit.get(dead) for _ in range(3)]
    assert {letter.body for letter in letters if letter is not None} == bad
    assert await rabbit.get(dead) is None


async def test_a_requeued_message_between_acks_comes_back(rabbit: Broker, tmp_path: Path) -> None:
    queue = rabbit.queue()
    declare = {"queues": [{"name": queue, "durable": False}]}
    out = sink(tmp_path, routing_key=queue, declare=declare)
    into = source(tmp_path, queue=queue, declare=declare)
    await out.open()
    await into.open()
    try:
        for i in range(5):
            await out.send(Message(f"m{i}".encode()))
        deliveries = await pull(into, 5)
        flaky = next(d for d in deliveries if d.message.body == b"m2")
        for delivery in deliveries:
            if delivery is flaky:
                await delivery.nack(TransientError("sink down"))
            else:
                await delivery.ack()
        [again] = await pull(into, 1)
        assert again.message.body == b"m2"
        assert again.message.headers["amqp.redelivered"] == "true"
        await again.ack()
    finally:
        await into.close()
        await out.close()
    assert await rabbit.ready(queue) == 0


async def test_a_slow_message_does_not_hold_back_the_acks_behind_it(
    rabbit: Broker, tmp_path: Path
) -> None:
    queue = rabbit.queue()
    declare = {"queues": [{"name": queue, "durable": False}]}
    out = sink(tmp_path, routing_key=queue, declare=declare)
    into = source(tmp_path, queue=queue, declare=declare, prefetch=4)
    await out.open()
    await into.open()
    try:
        for i in range(12):
            await out.send(Message(f"m{i}".encode()))
        slow, *others = await pull(into, 4)
        seen = {slow.message.body}
        for _ in range(8):  # the broker sends more only if the acks behind `slow` reach it
            for delivery in others:
                seen.add(delivery.message.body)
                await delivery.ack()
            others = await pull(into, 1)
        await slow.ack()
        assert len(seen) == 11
    finally:
        await into.close()
        await out.close()
    assert await rabbit.ready(queue) == 1  # m11: pulled last, never acked, back in the queue
