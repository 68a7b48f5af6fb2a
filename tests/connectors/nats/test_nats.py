"""NATS source and sink against the real server: core subjects and JetStream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from nats_harness import URL

from splice.components import registry
from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.connectors.nats import NatsSink, NatsSinkConfig, NatsSource, NatsSourceConfig
from splice.errors import MessageError, TransientError
from splice.message import Message


def source(context: Context, **config: Any) -> NatsSource:
    return NatsSource(NatsSourceConfig.model_validate({"url": URL, **config}), context)


def sink(context: Context, **config: Any) -> NatsSink:
    return NatsSink(NatsSinkConfig.model_validate({"url": URL, **config}), context)


async def take(iterator: AsyncIterator[Delivery], count: int, within: float = 5) -> list[Delivery]:
    async with asyncio.timeout(within):
        return [await anext(iterator) for _ in range(count)]


async def test_core_subject_round_trip_with_headers(
    context: Context, unique: str, jetstream: Callable[[str], Any]
) -> None:
    src = source(context, subject=f"t.{unique}", queue="q")
    out = sink(context, subject=f"t.{unique}")
    await src.open()
    await out.open()
    try:
        iterator = aiter(src.deliveries())
        pulled = asyncio.create_task(take(iterator, 2))
        await asyncio.sleep(0.1)
        await out.send(Message(b"one", headers={"x-order": "42"}))
        await out.send(Message({"two": 2}))
        first, second = await pulled
        assert first.message.body == b"one"
        assert first.message.headers["x-order"] == "42"
        assert first.message.headers["nats.subject"] == f"t.{unique}"
        assert second.message.body == b'{"two":2}'
        await first.ack()
    finally:
        await out.close()
        await src.close()
        await src.close()


async def test_core_request_reply_without_responder_is_transient(
    context: Context, unique: str, jetstream: Callable[[str], Any]
) -> None:
    out = sink(context, subject=f"nobody.{unique}", confirm="request", timeout=0.5)
    await out.open()
    try:
        with pytest.raises(TransientError):
            await out.send(Message(b"anyone?"))
    finally:
        await out.close()


async def test_jetstream_round_trip_declares_the_stream_and_acks(
    context: Context, unique: str, jetstream: Callable[[str], Any]
) -> None:
    stream = f"S{unique}"
    js = jetstream(stream)
    out = sink(context, subject=f"js.{unique}", stream={"name": stream, "storage": "memory"})
    await out.open()
    await out.send(Message(b"hello", headers={"k": "v"}))
    assert out.last_ack is not None
    assert out.last_ack.stream == stream
    await out.close()
    src = source(context, subject=f"js.{unique}", stream=stream, durable="d")
    await src.open()
    try:
        [delivery] = await take(aiter(src.deliveries()), 1)
        assert delivery.message.body == b"hello"
        assert delivery.message.headers["k"] == "v"
        assert delivery.message.headers["Nats-Msg-Id"]
        await delivery.ack()
    finally:
        await src.close()
    info = await js.consumer_info(stream, "d")
    assert info.num_ack_pending == 0
    assert info.num_pending == 0


async def test_jetstream_redelivers_what_was_not_acked_after_ack_wait(
    context: Context, unique: str, jetstream: Callable[[str], Any]
) -> None:
    stream = f"S{unique}"
    jetstream(stream)
    out = sink(context, subject=f"js.{unique}", stream={"name": stream, "storage": "memory"})
    await out.open()
    await out.send(Message(b"keep me"))
    await out.close()
    config = {"subject": f"js.{unique}", "stream": stream, "durable": "d", "ack_wait": "1s"}
    src = source(context, settle_timeout=0, **config)
    await src.open()
    try:
        iterator = aiter(src.deliveries())
        [first] = await take(iterator, 1)  # never settled: a crash
        [again] = await take(iterator, 1, within=15)
        assert again.message.body == b"keep me"
        assert again.message.headers["Nats-Msg-Id"] == first.message.headers["Nats-Msg-Id"]
        await again.ack()
    finally:
        await src.close()


async def test_jetstream_nack_redelivers_and_a_bad_message_is_terminated(
    context: Context, unique: str, jetstream: Callable[[str], Any]
) -> None:
    stream = f"S{unique}"
    js = jetstream(stream)
    out = sink(context, subject=f"js.{unique}", stream={"name": stream, "storage": "memory"})
    await out.open()
    await out.send(Message(b"flaky"))
    await out.send(Message(b"bad"))
    await out.close()
    src = source(context, subject=f"js.{unique}", stream=stream, durable="d", nak_delay=0)
    await src.open()
    try:
        iterator = aiter(src.deliveries())
        flaky, bad = await take(iterator, 2)
        await flaky.nack(TransientError("try later"))
        await bad.nack(MessageError("not an order"))
        [again] = await take(iterator, 1)
        assert again.message.body == b"flaky"
        await again.ack()
        await asyncio.sleep(0.2)
    finally:
        await src.close()
    info = await js.consumer_info(stream, "d")
    assert info.num_ack_pending == 0
    assert info.num_redelivered == 0


async def test_jetstream_republish_with_the_same_id_is_deduplicated(
    context: Context, unique: str, jetstream: Callable[[str], Any]
) -> None:
    stream = f"S{unique}"
    js = jetstream(stream)
    out = sink(context, subject=f"js.{unique}", stream={"name": stream, "storage": "memory"})
    await out.open()
    try:
        message = Message(b"pay once")
        await out.send(message)
        assert out.last_ack is not None
        assert not out.last_ack.duplicate
        await out.send(message)
        assert out.last_ack is not None
        assert out.last_ack.duplicate
        keyed = sink(context, subject=f"js.{unique}", stream=stream, dedup_header="payment-id")
        await keyed.open()
        await keyed.send(Message(b"a", headers={"payment-id": "p-1"}))
        await keyed.send(Message(b"b", headers={"payment-id": "p-1"}))
        assert keyed.last_ack is not None
        assert keyed.last_ack.duplicate
        with pytest.raises(MessageError):
            await keyed.send(Message(b"c"))
        await keyed.close()
    finally:
        await out.close()
    assert (await js.stream_info(stream)).state.messages == 2


async def test_the_sink_is_not_connected_before_open(context: Context) -> None:
    from splice.errors import NotConnected

    with pytest.raises(NotConnected):
        await sink(context, subject="x").send(Message(b"x"))


async def test_an_unreachable_server_is_not_connected(context: Context) -> None:
    from splice.errors import NotConnected

    out = NatsSink(
        NatsSinkConfig(url="nats://127.0.0.1:1", subject="x", connect_timeout=0.5), context
    )
    with pytest.raises(NotConnected):
        await out.open()


def test_config_rules() -> None:
    spec = registry.get("source", "nats")
    with pytest.raises(ValueError, match="durable"):
        spec.parse({"subject": "a", "stream": "S"})
    with pytest.raises(ValueError, match="queue"):
        spec.parse({"subject": "a", "stream": "S", "durable": "d", "queue": "q"})
    with pytest.raises(ValueError, match="nats://"):
        spec.parse({"subject": "a", "url": "http://x"})
    assert registry.get("sink", "nats").parse("orders").subject == "orders"  # type: ignore[attr-defined]
