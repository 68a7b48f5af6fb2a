"""The amqp source and sink against the real RabbitMQ: confirms, acks, prefetch, mapping."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from amqp_harness import Broker, broker, context, pull, require, sink, source

from splice.components.registry import get
from splice.connectors.amqp.source import prefetch_for
from splice.errors import MessageError, PermanentError, TransientError
from splice.message import Message

pytestmark = pytest.mark.service


def queue_of(name: str, **arguments: object) -> dict[str, object]:
    return {"queues": [{"name": name, "durable": True, "arguments": arguments}]}


async def test_round_trip_with_confirms_and_acks(rabbit: Broker, tmp_path: Path) -> None:
    queue = rabbit.queue()
    out = sink(tmp_path, routing_key=queue, declare=queue_of(queue))
    into = source(tmp_path, queue=queue, prefetch=50)
    await out.open()
    await into.open()
    try:
        await asyncio.gather(*(out.send(Message(f"m{i}".encode())) for i in range(20)))
        deliveries = await pull(into, 20)
        assert sorted(d.message.body for d in deliveries) == sorted(
            f"m{i}".encode() for i in range(20)
        )
        for delivery in deliveries:
            await delivery.ack([delivery.message])
        await asyncio.sleep(0.2)
        assert await rabbit.ready(queue) == 0
    finally:
        await into.close()
        await out.close()
    assert await rabbit.ready(queue) == 0  # acked messages do not come back on close


async def test_prefetch_bounds_unacknowledged_deliveries(rabbit: Broker, tmp_path: Path) -> None:
    queue = rabbit.queue()
    out = sink(tmp_path, routing_key=queue, declare=queue_of(queue))
    into = source(tmp_path, queue=queue, prefetch=3)
    await out.open()
    await into.open()
    try:
        for i in range(10):
            await out.send(Message(str(i)))
        held = await pull(into, 3)
        await asyncio.sleep(0.3)
        assert await rabbit.ready(queue) == 7  # the broker sends no more until we settle
        for delivery in held:
            await delivery.ack()
        rest = []
        for _ in range(7):
            [delivery] = await pull(into, 1)
            await delivery.ack()
            rest.append(delivery)
        assert len({d.message.body for d in held + rest}) == 10
    finally:
        await into.close()
        await out.close()


async def test_prefetch_left_out_is_two_windows_of_the_flows_max_in_flight(
    rabbit: Broker, tmp_path: Path
) -> None:
    queue = rabbit.queue()
    out = sink(tmp_path, routing_key=queue, declare=queue_of(queue))
    spec = get("source", "amqp")
    flow = replace(context(tmp_path), max_in_flight=2)
    into = spec.build(spec.parse({"queue": queue}), flow)
    assert into.prefetch == 4
    await out.open()
    await into.open()
    try:
        for i in range(10):
            await out.send(Message(str(i)))
        held = await pull(into, 4)
        await asyncio.sleep(0.3)
        assert await rabbit.ready(queue) == 6
        for delivery in held:
            await delivery.ack()
    finally:
        await into.close()
        await out.close()


def test_a_prefetch_below_max_in_flight_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = get("source", "amqp")
    flow = replace(context(tmp_path), max_in_flight=64)
    with caplog.at_level(logging.WARNING):
        spec.build(spec.parse({"queue": "q", "prefetch": 10}), flow)
        spec.build(spec.parse({"queue": "q", "prefetch": 64}), flow)
    [warning] = caplog.messages
    assert "prefetch 10 is below max_in_flight 64" in warning


@pytest.mark.parametrize(
    ("configured", "max_in_flight", "expected"),
    [(None, 64, 128), (None, 40_000, 65_535), (1, 64, 1), (500, 64, 500)],
)
def test_prefetch_for(configured: int | None, max_in_flight: int, expected: int) -> None:
    assert prefetch_for(configured, max_in_flight) == expected


async def test_nack_requeues_and_a_bad_message_is_dead_lettered(
    rabbit: Broker, tmp_path: Path
) -> None:
    queue, dead, dlx = rabbit.queue(), rabbit.queue("dead"), rabbit.exchange("dlx")
    declare = {
        "exchanges": [{"name": dlx, "type": "fanout", "durable": False}],
        "queues": [
            {"name": dead, "durable": False},
            {"name": queue, "durable": False, "arguments": {"x-dead-letter-exchange": dlx}},
        ],
        "bindings": [{"queue": dead, "exchange": dlx}],
    }
    out = sink(tmp_path, routing_key=queue, declare=declare)
    into = source(tmp_path, queue=queue, declare=declare)
    await out.open()
    await into.open()
    try:
        await out.send(Message(b"flaky"))
        [first] = await pull(into, 1)
        assert first.message.headers["amqp.redelivered"] == "false"
        await first.nack(TransientError("sink down"))
        [again] = await pull(into, 1)
        assert again.message.body == b"flaky"
        assert again.message.headers["amqp.redelivered"] == "true"
        await again.nack(MessageError("not an order"))
        await asyncio.sleep(0.3)
        dead_letter = await rabbit.get(dead)
        assert dead_letter is not None
        assert dead_letter.body == b"flaky"
        assert await rabbit.ready(queue) == 0
    finally:
        await into.close()
        await out.close()


async def test_quorum_queue_is_declared(rabbit: Broker, tmp_path: Path) -> None:
    queue = rabbit.queue("quorum")
    out = sink(tmp_path, routing_key=queue, declare=queue_of(queue, **{"x-queue-type": "quorum"}))
    into = source(tmp_path, queue=queue)
    await out.open()
    await into.open()
    try:
        await out.send(Message(b"q"))
        [delivery] = await pull(into, 1)
        await delivery.ack()
        listed = await asyncio.create_subprocess_exec(
            "rabbitmqctl", "-q", "list_queues", "name", "type", stdout=asyncio.subprocess.PIPE
        )
        output, _ = await listed.communicate()
        assert f"{queue}\tquorum" in output.decode()
    finally:
        await into.close()
        await out.close()


async def test_headers_and_properties_map_both_ways(rabbit: Broker, tmp_path: Path) -> None:
    queue, exchange = rabbit.queue(), rabbit.exchange()
    declare = {
        "exchanges": [{"name": exchange, "type": "topic", "durable": False}],
        "queues": [{"name": queue, "durable": False}],
        "bindings": [{"queue": queue, "exchange": exchange, "routing_key": "orders.*"}],
    }
    out = sink(
        tmp_path, exchange=exchange, routing_key="orders.created", app_id="crm", declare=declare
    )
    into = source(tmp_path, queue=queue)
    await out.open()
    await into.open()
    try:
        sent = Message(
            b"{}",
            {"order-id": "A-1", "amqp.type": "OrderCreated", "authorization": "Bearer x"},
            "application/json",
            correlation_id="corr-1",
        )
        await out.send(sent)
        [delivery] = await pull(into, 1)
        await delivery.ack()
        got = delivery.message
        assert got.content_type == "application/json"
        assert got.correlation_id == "corr-1"
        assert got.headers["order-id"] == "A-1"
        assert "authorization" not in got.headers  # a secret-named header is never forwarded
        assert got.headers["amqp.type"] == "OrderCreated"
        assert got.headers["amqp.app_id"] == "crm"
        assert got.headers["amqp.message_id"] == sent.id
        assert got.headers["amqp.exchange"] == exchange
        assert got.headers["amqp.routing_key"] == "orders.created"
    finally:
        await into.close()
        await out.close()


async def test_only_the_chosen_headers_are_forwarded(rabbit: Broker, tmp_path: Path) -> None:
    queue = rabbit.queue()
    out = sink(tmp_path, routing_key=queue, headers=["order-*"], declare=queue_of(queue))
    await out.open()
    try:
        await out.send(Message(b"{}", {"order-id": "A-1", "user-agent": "curl", "http.path": "/"}))
        await asyncio.sleep(0.1)
        got = await rabbit.get(queue)
        assert got is not None
        assert got.header.properties.headers == {"order-id": "A-1"}
    finally:
        await out.close()


async def test_data_bodies_are_sent_as_json(rabbit: Broker, tmp_path: Path) -> None:
    queue = rabbit.queue()
    out = sink(tmp_path, routing_key=queue, declare=queue_of(queue))
    await out.open()
    try:
        await out.send(Message({"a": 1}))
        await asyncio.sleep(0.1)
        got = await rabbit.get(queue)
        assert got is not None
        assert got.body == b'{"a":1}'
        assert got.header.properties.content_type == "application/json"
        assert got.header.properties.delivery_mode == 2
    finally:
        await out.close()


async def test_unroutable_mandatory_message_is_permanent(rabbit: Broker, tmp_path: Path) -> None:
    exchange = rabbit.exchange()
    declare = {"exchanges": [{"name": exchange, "durable": False}]}
    out = sink(tmp_path, exchange=exchange, routing_key="nowhere", mandatory=True, declare=declare)
    await out.open()
    try:
        with pytest.raises(PermanentError, match="unroutable"):
            await out.send(Message(b"lost?"))
    finally:
        await out.close()


async def test_a_broker_nack_is_transient(rabbit: Broker, tmp_path: Path) -> None:
    queue = rabbit.queue("full")
    arguments = {"x-max-length": 1, "x-overflow": "reject-publish"}
    out = sink(tmp_path, routing_key=queue, declare=queue_of(queue, **arguments))
    await out.open()
    try:
        await out.send(Message(b"fits"))
        with pytest.raises(TransientError, match="nack"):
            await out.send(Message(b"does not fit"))
    finally:
        await out.close()


async def test_send_after_the_broker_closed_the_connection_reconnects(
    rabbit: Broker, tmp_path: Path
) -> None:
    queue = rabbit.queue()
    out = sink(tmp_path, routing_key=queue, declare=queue_of(queue))
    await out.open()
    try:
        assert out._connection is not None
        await out._connection.close()  # as the broker does when it stops
        await out.send(Message(b"after"))  # reconnects on the next send
        await asyncio.sleep(0.1)
        assert await rabbit.ready(queue) == 1
    finally:
        await out.close()


async def test_the_source_resumes_after_losing_its_connection(
    rabbit: Broker, tmp_path: Path
) -> None:
    queue = rabbit.queue()
    out = sink(tmp_path, routing_key=queue, declare=queue_of(queue))
    into = source(tmp_path, queue=queue, reconnect_initial="50ms", declare=queue_of(queue))
    await out.open()
    await into.open()
    try:
        await out.send(Message(b"before"))
        [held] = await pull(into, 1)
        assert into._connection is not None
        await into._connection.close()  # as a network failure would
        await held.ack()  # too late: only logged, the broker delivers it again
        await out.send(Message(b"after"))
        deliveries = await pull(into, 2)
        for delivery in deliveries:
            await delivery.ack()
        assert sorted(d.message.body for d in deliveries) == [b"after", b"before"]
        before = next(d for d in deliveries if d.message.body == b"before")
        assert before.message.headers["amqp.redelivered"] == "true"
    finally:
        await into.close()
        await out.close()


async def test_close_ends_a_source_waiting_to_reconnect(tmp_path: Path) -> None:
    require("rabbitmq")
    async with broker() as rabbit:
        queue = rabbit.queue()
        into = source(tmp_path, queue=queue, reconnect_initial="30s", declare=queue_of(queue))
        await into.open()
        into.config = into.config.model_copy(update={"url": "amqp://guest:guest@127.0.0.1:1/"})
        assert into._connection is not None
        await into._connection.close()
        iterator = into.deliveries()
        waiting = asyncio.ensure_future(anext(iterator))
        await asyncio.sleep(0.3)  # it failed to reconnect once and now waits
        async with asyncio.timeout(2):
            await into.close()
            with pytest.raises(StopAsyncIteration):
                await waiting


async def test_open_against_no_broker_is_not_connected(tmp_path: Path) -> None:
    from splice.errors import NotConnected

    out = sink(tmp_path, url="amqp://guest:guest@127.0.0.1:1/", connect_timeout=2)
    with pytest.raises(NotConnected, match=r"127\.0\.0\.1:1") as caught:
        await out.open()
    assert "guest:guest" not in str(caught.value)


async def test_confirmed_publishes_write_their_own_frames_and_arrive_whole(
    rabbit: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ordinary messages skip aiormq's basic_publish; a body larger than a frame is split
    and arrives whole; a header name pamqp would cut short goes through aiormq."""
    queue = rabbit.queue()
    out = sink(tmp_path, routing_key=queue, declare=queue_of(queue))
    into = source(tmp_path, queue=queue, prefetch=10)
    await out.open()
    await into.open()
    calls: list[str] = []
    channel = out._channel
    assert channel is not None
    original = channel.basic_publish

    async def counted(*args: object, **kwargs: object) -> object:
        calls.append("basic_publish")
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(channel, "basic_publish", counted)
    big = bytes(range(256)) * 2048  # 512 KiB: several frames at the negotiated frame_max
    try:
        await out.send(Message(b"small", {"x-order": "1"}))
        await out.send(Message(big))
        assert calls == []
        await out.send(Message(b"odd", {"k" * 130: "v"}))  # pamqp cuts the name to 128
        assert calls == ["basic_publish"]
        deliveries = await pull(into, 3)
        bodies = [d.message.body for d in deliveries]
        assert bodies == [b"small", big, b"odd"]
        assert deliveries[0].message.headers["x-order"] == "1"
        for delivery in deliveries:
            await delivery.ack([delivery.message])
    finally:
        await into.close()
        await out.close()


async def test_a_declare_the_broker_refuses_names_the_queue_and_the_reason(
    rabbit: Broker, tmp_path: Path
) -> None:
    from splice.errors import ConnectorError, NotConnected

    queue = rabbit.queue("typed")
    await rabbit.channel.queue_declare(queue, durable=True)  # a classic queue already there
    out = sink(tmp_path, routing_key=queue, declare=queue_of(queue, **{"x-queue-type": "quorum"}))
    with pytest.raises(ConnectorError) as caught:
        await out.open()
    assert not isinstance(caught.value, NotConnected)  # the broker was reached: no outage
    assert caught.value.code == "amqp-declare"
    message = str(caught.value)
    assert "refused the declared topology" in message
    assert queue in message and "x-queue-type" in message


async def test_a_login_the_broker_refuses_stops_the_open_and_says_so(
    rabbit: Broker, tmp_path: Path
) -> None:
    from splice.errors import ConnectorError, NotConnected

    out = sink(tmp_path, url="amqp://guest:not-the-password@127.0.0.1:5672/", routing_key="x")
    with pytest.raises(ConnectorError) as caught:
        await out.open()
    assert not isinstance(caught.value, NotConnected)  # the broker answered: no outage
    assert caught.value.code == "amqp-login"
    assert "refused the login" in str(caught.value)
    assert "not-the-password" not in str(caught.value)
