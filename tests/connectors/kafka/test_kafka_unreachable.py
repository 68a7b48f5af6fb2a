"""No broker at the address: opening fails at once, with one clear, retriable error.

Real sockets, no mock: a loopback port nothing listens on (connection refused), and a
loopback server that accepts connections but never answers (the wait is bounded by
``connect_timeout``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from kafka_harness import closed_port

from splice.components import registry
from splice.components.context import Context
from splice.connectors.kafka.sink import KafkaSink
from splice.connectors.kafka.source import KafkaSource
from splice.errors import NotConnected, is_transient
from splice.message import Message

# a guard against a hang, not a measurement: the failures below come in well under it
GUARD = 60


def build(kind: str, tmp_path: Path, **raw: Any) -> Any:
    spec = registry.get(kind, "kafka")  # type: ignore[arg-type]
    return spec.build(spec.parse(raw), Context(tmp_path, "orders"))


def assert_clear(error: NotConnected, address: str) -> None:
    text = str(error)
    assert error.code == "kafka-connect"
    assert is_transient(error)
    assert f"no Kafka broker answered at {address}" in text
    assert "\n" not in text and "Traceback" not in text


async def test_a_source_with_no_broker_is_not_connected(tmp_path: Path) -> None:
    address = f"127.0.0.1:{closed_port()}"
    source: KafkaSource = build("source", tmp_path, brokers=[address], topics=["orders"])
    async with asyncio.timeout(GUARD):
        with pytest.raises(NotConnected) as caught:
            await source.open()
    assert_clear(caught.value, address)
    assert "group 'splice-orders'" in str(caught.value)
    with pytest.raises(NotConnected, match="not open"):
        await anext(source.deliveries())
    await source.close()
    await source.close()  # twice is safe


async def test_a_sink_with_no_broker_is_not_connected(tmp_path: Path) -> None:
    address = f"127.0.0.1:{closed_port()}"
    sink: KafkaSink = build("sink", tmp_path, brokers=[address], topic="orders")
    async with asyncio.timeout(GUARD):
        with pytest.raises(NotConnected) as caught:
            await sink.open()
    assert_clear(caught.value, address)
    with pytest.raises(NotConnected, match="not open"):
        await sink.send(Message(b"x"))
    await sink.close()


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A loopback server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("kind", ["source", "sink"])
async def test_a_broker_that_never_answers_fails_within_connect_timeout(
    kind: str, tmp_path: Path, silent_server: str
) -> None:
    raw = {"topics": ["orders"]} if kind == "source" else {"topic": "orders"}
    component = build(kind, tmp_path, brokers=[silent_server], connect_timeout="300ms", **raw)
    async with asyncio.timeout(GUARD):
        with pytest.raises(NotConnected) as caught:
            await component.open()
    assert_clear(caught.value, silent_server)
    assert "no answer within 0.3s" in str(caught.value)
    await component.close()
