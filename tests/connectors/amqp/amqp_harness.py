"""Helpers for the AMQP tests against the real RabbitMQ: unique names, a raw client, builders."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiormq
from aiormq.abc import AbstractChannel

from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.components.registry import get
from splice.connectors.amqp.sink import AmqpSink
from splice.connectors.amqp.source import AmqpSource

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # tests/ is a package; these test folders are not
    sys.path.insert(0, str(ROOT))

from tests.services import require  # noqa: E402

__all__ = ["URL", "Broker", "broker", "pull", "require", "sink", "source", "unique"]

URL = "amqp://guest:guest@127.0.0.1:5672/"


def unique(prefix: str) -> str:
    return f"splice-test-{prefix}-{uuid.uuid4().hex[:10]}"


def context(tmp_path: Path) -> Context:
    return Context(project_dir=tmp_path, flow="amqp-test")


def source(tmp_path: Path, **raw: Any) -> AmqpSource:
    spec = get("source", "amqp")
    built: AmqpSource = spec.build(spec.parse(raw), context(tmp_path))
    return built


def sink(tmp_path: Path, **raw: Any) -> AmqpSink:
    spec = get("sink", "amqp")
    built: AmqpSink = spec.build(spec.parse(raw), context(tmp_path))
    return built


class Broker:
    """A raw channel for arranging and inspecting, and the names to delete afterwards."""

    def __init__(self, channel: AbstractChannel) -> None:
        self.channel = channel
        self.queues: list[str] = []
        self.exchanges: list[str] = []

    def queue(self, prefix: str = "q") -> str:
        name = unique(prefix)
        self.queues.append(name)
        return name

    def exchange(self, prefix: str = "x") -> str:
        name = unique(prefix)
        self.exchanges.append(name)
        return name

    async def ready(self, queue: str) -> int:
        """Messages ready in ``queue`` (not counting unacknowledged ones)."""
        declared = await self.channel.queue_declare(queue, passive=True)
        return int(declared.message_count or 0)

    async def get(self, queue: str) -> aiormq.abc.DeliveredMessage | None:
        message = await self.channel.basic_get(queue, no_ack=True)
        return message if message.body or message.delivery_tag else None


@asynccontextmanager
async def broker() -> AsyncIterator[Broker]:
    connection = aiormq.Connection(URL)
    await connection.connect()
    try:
        channel = await connection.channel()
        helper = Broker(channel)
        yield helper
    finally:
        await connection.close()
    await _delete(helper)


async def _delete(helper: Broker) -> None:
    """Delete the test's queues and exchanges on a fresh connection (the first may be gone)."""
    connection = aiormq.Connection(URL)
    await connection.connect()
    try:
        channel = await connection.channel()
        for queue in helper.queues:
            await channel.queue_delete(queue)
        for exchange in helper.exchanges:
            await channel.exchange_delete(exchange)
    finally:
        await connection.close()


async def pull(source: AmqpSource, count: int, seconds: float = 10.0) -> list[Delivery]:
    """The next ``count`` deliveries of an open source (left unsettled)."""
    found: list[Delivery] = []
    iterator = source.deliveries()
    try:
        async with asyncio.timeout(seconds):
            while len(found) < count:
                found.append(await anext(iterator))
    finally:
        await iterator.aclose()  # type: ignore[attr-defined]
    return found
