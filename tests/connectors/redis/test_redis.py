"""Redis Streams source and sink against the real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis_harness import URL

from splice.components import registry
from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.connectors.redis import RedisSink, RedisSinkConfig, RedisSource, RedisSourceConfig
from splice.errors import NotConnected, PermanentError, TransientError
from splice.message import Message


@pytest.fixture
def context(tmp_path: Path) -> Context:
    return Context(project_dir=tmp_path, flow="redis-test")


def source(context: Context, stream: str, **config: Any) -> RedisSource:
    values = {"url": URL, "stream": stream, "group": "g", "block": "100ms", **config}
    return RedisSource(RedisSourceConfig.model_validate(values), context)


def sink(context: Context, stream: str, **config: Any) -> RedisSink:
    return RedisSink(
        RedisSinkConfig.model_validate({"url": URL, "stream": stream, **config}), context
    )


async def take(iterator: AsyncIterator[Delivery], count: int, within: float = 5) -> list[Delivery]:
    async with asyncio.timeout(within):
        return [await anext(iterator) for _ in range(count)]


async def pending(stream: str) -> int:
    from redis.asyncio import Redis

    client = Redis.from_url(URL)
    summary: Any = await client.xpending(stream, "g")
    await client.aclose()
    return int(summary["pending"])


async def test_round_trip_body_and_headers_then_xack(context: Context, stream: str) -> None:
    out = sink(context, stream)
    await out.open()
    await out.send(Message(b"raw", headers={"x-order": "42", "weird:name": "a b"}))
    await out.send(Message({"n": 1}))
    assert out.last_id
    await out.close()
    src = source(context, stream, consumer="c1")
    await src.open()
    try:
        first, second = await take(aiter(src.deliveries()), 2)
        assert first.message.body == b"raw"
        assert first.message.headers["x-order"] == "42"
        assert first.message.headers["weird:name"] == "a b"
        assert first.message.headers["redis.stream"] == stream
        assert second.message.body == b'{"n":1}'
        await first.ack()
        await second.nack(TransientError("later"))
    finally:
        await src.close()
    assert await pending(stream) == 1


async def test_a_restarted_consumer_rereads_its_own_pending_entries(
    context: Context, stream: str
) -> None:
    out = sink(context, stream)
    await out.open()
    await out.send(Message(b"survives a crash"))
    await out.close()
    crashed = source(context, stream, consumer="c1", settle_timeout=0)
    await crashed.open()
    [lost] = await take(aiter(crashed.deliveries()), 1)
    await crashed.close()  # never settled
    restarted = source(context, stream, consumer="c1")
    await restarted.open()
    try:
        [again] = await take(aiter(restarted.deliveries()), 1)
        assert again.message.headers["redis.id"] == lost.message.headers["redis.id"]
        await again.ack()
    finally:
        await restarted.close()
    assert await pending(stream) == 0


async def test_xautoclaim_takes_over_a_dead_consumers_pending_entry(
    context: Context, stream: str
) -> None:
    out = sink(context, stream)
    await out.open()
    await out.send(Message(b"orphan"))
    await out.close()
    dead = source(context, stream, consumer="dead", settle_timeout=0)
    await dead.open()
    [orphan] = await take(aiter(dead.deliveries()), 1)
    await dead.close()
    survivor = source(context, stream, consumer="alive", min_idle="300ms")
    await survivor.open()
    try:
        [claimed] = await take(aiter(survivor.deliveries()), 1, within=5)
        assert claimed.message.body == b"orphan"
        assert claimed.message.headers["redis.id"] == orphan.message.headers["redis.id"]
        await claimed.ack()
    finally:
        await survivor.close()
    assert await pending(stream) == 0


async def test_maxlen_trims_the_stream(context: Context, stream: str) -> None:
    from redis.asyncio import Redis

    out = sink(context, stream, maxlen=3, exact_trim=True)
    await out.open()
    for n in range(10):
        await out.send(Message(str(n)))
    await out.close()
    client = Redis.from_url(URL)
    assert await client.xlen(stream) == 3
    await client.aclose()


async def test_a_wrong_key_type_is_permanent(context: Context, stream: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(URL)
    await client.set(stream, "not a stream")
    await client.aclose()
    out = sink(context, stream)
    await out.open()
    try:
        with pytest.raises(PermanentError):
            await out.send(Message(b"x"))
    finally:
        await out.close()


async def test_an_unreachable_server_is_not_connected(context: Context) -> None:
    with pytest.raises(NotConnected):
        await RedisSink(RedisSinkConfig(url="redis://127.0.0.1:1/0", stream="x"), context).open()


def test_config_rules() -> None:
    with pytest.raises(ValueError, match="redis://"):
        registry.get("source", "redis").parse({"url": "http://x", "stream": "s", "group": "g"})
    assert registry.get("sink", "redis").parse("orders").stream == "orders"  # type: ignore[attr-defined]
