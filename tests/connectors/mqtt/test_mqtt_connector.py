"""The mqtt source and sink against the real Mosquitto: QoS 1, retain, wildcards, sessions."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from mqtt_harness import pull, require, sink, source, unique

from splice.errors import MessageError, TransientError
from splice.message import Message

pytestmark = pytest.mark.service


@pytest.fixture(autouse=True)
def mosquitto() -> None:
    require("mqtt")


async def test_qos1_round_trip_with_headers(tmp_path: Path) -> None:
    topic = unique("round")
    into = source(tmp_path, topics=[topic], qos=1)
    out = sink(tmp_path, topic=topic, qos=1)
    await into.open()
    await out.open()
    try:
        await asyncio.gather(*(out.send(Message(f"m{i}".encode())) for i in range(20)))
        deliveries = await pull(into, 20)
        for delivery in deliveries:
            await delivery.ack()
        assert sorted(d.message.body for d in deliveries) == sorted(
            f"m{i}".encode() for i in range(20)
        )
        headers = deliveries[0].message.headers
        assert headers == {"mqtt.topic": topic, "mqtt.qos": "1", "mqtt.retain": "false"}
    finally:
        await out.close()
        await into.close()


async def test_a_retained_message_reaches_a_new_subscriber(tmp_path: Path) -> None:
    topic = unique("retained")
    out = sink(tmp_path, topic=topic, qos=1, retain=True)
    await out.open()
    try:
        await out.send(Message(b"last known value"))
        into = source(tmp_path, topics=[topic])
        await into.open()
        try:
            [delivery] = await pull(into, 1)
            await delivery.ack()
            assert delivery.message.body == b"last known value"
            assert delivery.message.headers["mqtt.retain"] == "true"
        finally:
            await into.close()
        await out.send(Message(b""))  # an empty retained message clears it
    finally:
        await out.close()


async def test_wildcard_subscriptions(tmp_path: Path) -> None:
    root = unique("plant")
    into = source(tmp_path, topics=[f"{root}/+/temperature", f"{root}/alarms/#"])
    out = sink(tmp_path, topic_header="target", topic=f"{root}/ignored")
    await into.open()
    await out.open()
    try:
        for target in (
            f"{root}/line-1/temperature",
            f"{root}/line-1/pressure",  # matches neither filter
            f"{root}/alarms/line-2/overheat",
        ):
            await out.send(Message(target.encode(), {"target": target}))
        deliveries = await pull(into, 2)
        for delivery in deliveries:
            await delivery.ack()
        assert sorted(d.message.headers["mqtt.topic"] for d in deliveries) == [
            f"{root}/alarms/line-2/overheat",
            f"{root}/line-1/temperature",
        ]
        with pytest.raises(TimeoutError):
            await pull(into, 1, seconds=0.5)
    finally:
        await out.close()
        await into.close()


async def _forget_session(tmp_path: Path, client_id: str, topic: str) -> None:
    cleaner = source(tmp_path, topics=[topic], client_id=client_id, clean_session=True)
    await cleaner.open()
    await cleaner.close()


async def test_a_persistent_session_gets_what_was_published_while_away(tmp_path: Path) -> None:
    topic, client_id = unique("session"), f"splice-test-{uuid.uuid4().hex[:8]}"
    settings = {"topics": [topic], "qos": 1, "client_id": client_id, "clean_session": False}
    into = source(tmp_path, **settings)
    await into.open()
    await into.close()  # the session and its subscription stay at the broker
    out = sink(tmp_path, topic=topic, qos=1)
    await out.open()
    try:
        for i in range(5):
            await out.send(Message(f"while away {i}".encode()))
        back = source(tmp_path, **settings)
        await back.open()
        try:
            deliveries = await pull(back, 5)
            for delivery in deliveries:
                await delivery.ack()
            assert sorted(d.message.body for d in deliveries) == [
                f"while away {i}".encode() for i in range(5)
            ]
        finally:
            await back.close()
    finally:
        await out.close()
        await _forget_session(tmp_path, client_id, topic)


async def test_an_unacknowledged_message_comes_back(tmp_path: Path) -> None:
    topic, client_id = unique("unacked"), f"splice-test-{uuid.uuid4().hex[:8]}"
    settings = {"topics": [topic], "qos": 1, "client_id": client_id, "clean_session": False}
    into = source(tmp_path, **settings)
    out = sink(tmp_path, topic=topic, qos=1)
    await into.open()
    await out.open()
    try:
        await out.send(Message(b"once"))
        [first] = await pull(into, 1)
        await first.nack(TransientError("a sink was down"))  # reconnects: the broker resends
        [again] = await pull(into, 1)
        assert again.message.body == b"once"
        await again.ack()
        await into.close()
        into = source(tmp_path, **settings)
        await into.open()
        with pytest.raises(TimeoutError):  # acked: it does not come back
            await pull(into, 1, seconds=0.5)
    finally:
        await out.close()
        await into.close()
        await _forget_session(tmp_path, client_id, topic)


async def test_a_bad_message_is_acknowledged_and_dropped(tmp_path: Path) -> None:
    topic = unique("bad")
    into = source(tmp_path, topics=[topic], qos=1)
    out = sink(tmp_path, topic=topic, qos=1)
    await into.open()
    await out.open()
    try:
        await out.send(Message(b"garbage"))
        [delivery] = await pull(into, 1)
        await delivery.nack(MessageError("not JSON"))
        await out.send(Message(b"next"))
        [following] = await pull(into, 1)
        await following.ack()
        assert following.message.body == b"next"
    finally:
        await out.close()
        await into.close()


async def test_a_message_without_its_topic_header_is_a_message_error(tmp_path: Path) -> None:
    out = sink(tmp_path, topic_header="target")
    await out.open()
    try:
        with pytest.raises(MessageError, match="target"):
            await out.send(Message(b"where to?"))
        with pytest.raises(MessageError, match="not a topic"):
            await out.send(Message(b"where to?", {"target": "a/+/b"}))
    finally:
        await out.close()


async def test_open_against_no_broker_is_not_connected(tmp_path: Path) -> None:
    from splice.errors import NotConnected

    out = sink(tmp_path, topic="x", port=1, connect_timeout=2)
    with pytest.raises(NotConnected):
        await out.open()
