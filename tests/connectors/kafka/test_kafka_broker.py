"""The kafka source and sink against a real Kafka-protocol broker (Tansu, see kafka_harness).

Skipped when no such broker can be had. Tansu is not Apache Kafka: the producer here runs
with ``idempotent: false`` because Tansu refuses InitProducerId (see docs/guides/kafka.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka_harness import Broker, start_tansu
from ulid import ULID

from splice.components import registry
from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.connectors.kafka.sink import KafkaSink
from splice.connectors.kafka.source import KafkaSource
from splice.errors import MessageError, PermanentError, TransientError, is_transient
from splice.message import Message

GUARD = 60  # a guard against a hang, not a measurement


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    with start_tansu() as running:
        yield running


@pytest.fixture
def unique() -> str:
    return str(ULID()).lower()


async def create_topic(broker: Broker, name: str) -> str:
    """A new topic of two partitions (Tansu creates none by itself)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=broker.address)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 2, 1)])
    finally:
        await admin.close()
    return name


@pytest.fixture
async def topic(broker: Broker, unique: str) -> str:
    return await create_topic(broker, f"t-{unique}")


def build(kind: str, broker: Broker, tmp_path: Path, **raw: Any) -> Any:
    spec = registry.get(kind, "kafka")  # type: ignore[arg-type]
    config = spec.parse({"brokers": [broker.address], **raw})
    return spec.build(config, Context(tmp_path, "kafka-test"))


async def produce(broker: Broker, topic: str, records: list[tuple[bytes, int]]) -> None:
    """``(value, partition)`` records, in order, with a plain aiokafka producer."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=broker.address)
    await producer.start()
    try:
        for value, partition in records:
            await producer.send_and_wait(topic, value, partition=partition)
    finally:
        await producer.stop()


async def consume_all(broker: Broker, topic: str, count: int) -> list[Any]:
    """The first ``count`` records of ``topic`` (both partitions), read without a group."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=broker.address, auto_offset_reset="earliest")
    await consumer.start()
    consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
    records: list[Any] = []
    try:
        async with asyncio.timeout(GUARD):
            while len(records) < count:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def committed(broker: Broker, group: str, topic: str, partition: int) -> int | None:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=broker.address, group_id=group)
    await consumer.start()
    try:
        offset: int | None = await consumer.committed(TopicPartition(topic, partition))
        return offset
    finally:
        await consumer.stop()


async def take(source: KafkaSource, count: int) -> list[Delivery]:
    deliveries: list[Delivery] = []
    async with asyncio.timeout(GUARD):
        async for delivery in source.deliveries():
            deliveries.append(delivery)
            if len(deliveries) == count:
                return deliveries
    return deliveries


def offsets(deliveries: list[Delivery]) -> list[int]:
    return [int(d.message.headers["kafka.offset"]) for d in deliveries]


async def test_the_sink_sends_value_key_headers_and_routes_by_header(
    broker: Broker, topic: str, tmp_path: Path, unique: str
) -> None:
    other = await create_topic(broker, f"o-{unique}")
    sink: KafkaSink = build(
        "sink",
        broker,
        tmp_path,
        topic=topic,
        idempotent=False,
        key="orderId",
        topic_header="route",
        allow_topics=[other],
        headers=["source"],
    )
    await sink.open()
    try:
        await sink.send(Message({"orderId": "A-1"}, {"source": "crm", "skip": "x"}))
        await sink.send(Message({"orderId": "A-2"}, {"route": other}, correlation_id="c-2"))
        with pytest.raises(MessageError, match="not in allow_topics"):
            await sink.send(Message({"orderId": "A-3"}, {"route": "elsewhere"}))
    finally:
        await sink.close()
        await sink.close()  # twice is safe

    [first] = await consume_all(broker, topic, 1)
    assert first.key == b"A-1"
    assert first.value == b'{"orderId":"A-1"}'
    headers = dict(first.headers)
    assert headers["source"] == b"crm"
    assert headers["content-type"] == b"application/json"
    assert "skip" not in headers
    [routed] = await consume_all(broker, other, 1)
    assert routed.key == b"A-2"
    assert dict(routed.headers)["correlation-id"] == b"c-2"


async def test_a_record_too_large_is_permanent(broker: Broker, topic: str, tmp_path: Path) -> None:
    sink: KafkaSink = build(
        "sink", broker, tmp_path, topic=topic, idempotent=False, max_request_size=1024
    )
    await sink.open()
    try:
        with pytest.raises(PermanentError, match="MessageSizeTooLarge") as caught:
            await sink.send(Message(b"x" * 4096))
    finally:
        await sink.close()
    assert caught.value.code == "kafka"
    assert not is_transient(caught.value)


async def test_a_round_trip_keeps_headers_and_key(
    broker: Broker, topic: str, tmp_path: Path, unique: str
) -> None:
    sink: KafkaSink = build("sink", broker, tmp_path, topic=topic, idempotent=False, partition=1)
    await sink.open()
    await sink.send(Message(b"payload", {"trace": "t-1"}, "text/plain", correlation_id="c-9"))
    await sink.close()
    source: KafkaSource = build("source", broker, tmp_path, topics=[topic], group=unique)
    await source.open()
    try:
        [delivery] = await take(source, 1)
        message = delivery.message
        assert message.body == b"payload"
        assert message.content_type == "text/plain"
        assert message.correlation_id == "c-9"
        assert message.headers["trace"] == "t-1"
        assert message.headers["kafka.topic"] == topic
        assert message.headers["kafka.partition"] == "1"
        assert message.headers["kafka.offset"] == "0"
        assert int(message.headers["kafka.timestamp"]) > 0
        await delivery.ack()
    finally:
        await source.close()
    assert await committed(broker, unique, topic, 1) == 1


async def test_offsets_are_committed_only_below_the_first_unfinished_message(
    broker: Broker, topic: str, tmp_path: Path, unique: str
) -> None:
    await produce(broker, topic, [(f"m{i}".encode(), 0) for i in range(5)])
    raw = {"topics": [topic], "group": unique, "settle_timeout": "200ms", "session_timeout": "3s"}
    raw["heartbeat_interval"] = "1s"
    first: KafkaSource = build("source", broker, tmp_path, **raw)
    await first.open()
    deliveries = await take(first, 5)
    assert offsets(deliveries) == [0, 1, 2, 3, 4]
    for index in (4, 0, 3, 1):  # out of order; offset 2 never finishes
        await deliveries[index].ack()
    await first.close()
    assert await committed(broker, unique, topic, 0) == 2
    assert first.committed == {(topic, 0): 2}

    again: KafkaSource = build("source", broker, tmp_path, **raw)
    await again.open()
    redelivered = await take(again, 3)
    assert offsets(redelivered) == [2, 3, 4], "at-least-once: read again from the commit"
    for delivery in redelivered:
        await delivery.ack()
    await again.close()
    assert await committed(broker, unique, topic, 0) == 5


async def test_a_failed_message_is_redelivered_with_its_id_and_a_bad_one_is_skipped(
    broker: Broker, topic: str, tmp_path: Path, unique: str
) -> None:
    await produce(broker, topic, [(b"flaky", 0), (b"bad", 0), (b"good", 0)])
    source: KafkaSource = build(
        "source", broker, tmp_path, topics=[topic], group=unique, nak_delay=0
    )
    await source.open()
    try:
        flaky, bad, good = await take(source, 3)
        await flaky.nack(TransientError("the ERP is down"))
        await bad.nack(MessageError("not an order"))
        await good.ack()
        [again] = await take(source, 1)
        assert again.message.id == flaky.message.id
        assert again.message.body == b"flaky"
        await again.ack()
    finally:
        await source.close()
    assert await committed(broker, unique, topic, 0) == 3


async def test_close_waits_for_messages_in_flight_and_commits_them(
    broker: Broker, topic: str, tmp_path: Path, unique: str
) -> None:
    await produce(broker, topic, [(b"a", 1), (b"b", 1)])
    source: KafkaSource = build("source", broker, tmp_path, topics=[topic], group=unique)
    await source.open()
    first, second = await take(source, 2)
    await first.ack()

    async def finish_later() -> None:
        await asyncio.sleep(0)
        await second.ack()

    finishing = asyncio.create_task(finish_later())
    await source.close()  # waits (up to settle_timeout) for the second one
    await finishing
    assert await committed(broker, unique, topic, 1) == 2


async def test_a_rebalance_commits_what_is_done_and_forgets_the_rest(
    broker: Broker, topic: str, tmp_path: Path, unique: str
) -> None:
    await produce(broker, topic, [(b"p0-a", 0), (b"p0-b", 0), (b"p1-a", 1), (b"p1-b", 1)])
    raw = {
        "topics": [topic],
        "group": unique,
        "commit_interval": "1h",  # only the revocation and close commit here
        "settle_timeout": "300ms",
        "session_timeout": "3s",
        "heartbeat_interval": "1s",
    }
    first: KafkaSource = build("source", broker, tmp_path, **raw)
    await first.open()
    deliveries = await take(first, 4)
    unfinished = next(d for d in deliveries if d.message.body == b"p1-b")
    for delivery in deliveries:
        if delivery is not unfinished:
            await delivery.ack()
    assert first.committed == {}

    second: KafkaSource = build("source", broker, tmp_path, **raw)
    await second.open()
    pulls = [asyncio.create_task(take(source, 1)) for source in (first, second)]
    try:
        async with asyncio.timeout(GUARD):
            while not first.committed:  # polling makes the second join, the first rebalance
                await asyncio.sleep(0.1)
        assert first.committed == {(topic, 0): 2, (topic, 1): 1}
        await unfinished.ack()  # too late: its partition was revoked, it does not count
        done, _ = await asyncio.wait(pulls, timeout=GUARD, return_when=asyncio.FIRST_COMPLETED)
        [again] = done.pop().result()
        assert again.message.body == b"p1-b", "the unfinished message is read again"
        assert again.message.headers["kafka.offset"] == "1"
        await again.ack()
    finally:
        for pull in pulls:
            pull.cancel()
        await asyncio.gather(*pulls, return_exceptions=True)
        await first.close()
        await second.close()
    assert await committed(broker, unique, topic, 0) == 2
    assert await committed(broker, unique, topic, 1) == 2


async def test_a_flow_from_kafka_to_kafka_dead_letters_a_bad_message_and_commits_past_it(
    broker: Broker, topic: str, tmp_path: Path, unique: str
) -> None:
    from tests.runtime.engine_harness import start, write

    out = await create_topic(broker, f"out-{unique}")
    write(
        tmp_path,
        {
            "flows/orders.yaml": f"""
                integration: orders
                max_in_flight: 4
                source:
                  kafka:
                    brokers: "{broker.address}"
                    topics: [{topic}]
                    group: {unique}
                    commit_interval: 100ms
                steps:
                  - decode: json
                  - map: '{{"orderId": id, "total": qty * price}}'
                sinks:
                  erp:
                    kafka:
                      brokers: ["{broker.address}"]
                      topic: {out}
                      key: orderId
                      idempotent: false
                on_error: {{dead_letter: true}}
            """,
        },
    )
    good = [b'{"id": "A-1", "qty": 2, "price": 5}', b'{"id": "A-3", "qty": 1, "price": 7}']
    bad = [b"not json", b'{"id": "A-2"']
    await produce(broker, topic, [(good[0], 0), (bad[0], 0), (bad[1], 1), (good[1], 1)])
    engine = await start(tmp_path)
    assert engine.store is not None
    store = engine.store
    try:
        records = await consume_all(broker, out, 2)
        async with asyncio.timeout(GUARD):
            while await store.dead_letters.count("orders") < 2:
                await asyncio.sleep(0.05)
            source = engine.flows["orders"].source
            assert isinstance(source, KafkaSource)
            while source.committed != {(topic, 0): 2, (topic, 1): 2}:
                await asyncio.sleep(0.05)
        letters = await store.dead_letters.list("orders")
    finally:
        await engine.stop()
    assert sorted((r.key, r.value) for r in records) == [
        (b"A-1", b'{"orderId":"A-1","total":10}'),
        (b"A-3", b'{"orderId":"A-3","total":7}'),
    ]
    assert sorted(letter.message().body for letter in letters) == [b"not json", b'{"id": "A-2"']
    assert await committed(broker, unique, topic, 0) == 2
    assert await committed(broker, unique, topic, 1) == 2
