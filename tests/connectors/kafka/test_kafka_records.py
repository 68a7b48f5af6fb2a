"""Kafka records <-> messages: headers, keys, bodies and the sink's topic choice."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from splice.components import registry
from splice.components.context import Context
from splice.connectors.kafka._records import (
    key_function,
    message_from,
    record_headers,
    record_value,
)
from splice.connectors.kafka.sink import KafkaSink, KafkaSinkConfig
from splice.errors import MessageError
from splice.message import Message


def consumed(**overrides: Any) -> Message:
    record: dict[str, Any] = {
        "topic": "orders",
        "partition": 3,
        "offset": 42,
        "key": b"A-17",
        "value": b'{"orderId": "A-17"}',
        "headers": [("source", b"crm"), ("content-type", b"application/json")],
        "timestamp": 1_700_000_000_123,
        "message_id": "01JTESTMESSAGEID0000000000",
    }
    record.update(overrides)
    return message_from(**record)


def test_a_record_becomes_a_message_with_kafka_headers() -> None:
    message = consumed()
    assert message.body == b'{"orderId": "A-17"}'
    assert message.content_type == "application/json"
    assert message.id == "01JTESTMESSAGEID0000000000"
    assert message.correlation_id == message.id
    assert message.headers == {
        "source": "crm",
        "kafka.topic": "orders",
        "kafka.partition": "3",
        "kafka.offset": "42",
        "kafka.key": "A-17",
        "kafka.timestamp": "1700000000123",
    }


def test_a_correlation_id_header_is_kept_as_the_correlation_id() -> None:
    message = consumed(headers=[("correlation-id", b"corr-9")])
    assert message.correlation_id == "corr-9"
    assert "correlation-id" not in message.headers


def test_a_key_that_is_not_text_is_kept_in_base64_and_a_tombstone_is_empty() -> None:
    message = consumed(key=b"\xff\x00\x01", value=None, headers=[("bin", b"\xff")])
    assert "kafka.key" not in message.headers
    assert base64.b64decode(message.headers["kafka.key_base64"]) == b"\xff\x00\x01"
    assert message.body == b""
    assert message.headers["bin"] == "\ufffd"


def test_no_key_no_key_header() -> None:
    message = consumed(key=None, timestamp=None)
    assert "kafka.key" not in message.headers
    assert "kafka.timestamp" not in message.headers


def test_headers_sent_leave_out_kafka_and_secret_headers() -> None:
    message = Message(
        b"x",
        {
            "source": "crm",
            "kafka.offset": "42",
            "Authorization": "Bearer abc",
            "x-api-key": "k",
            "trace": "t1",
        },
        correlation_id="corr-1",
    )
    assert record_headers(message, ["*"], "application/json") == [
        ("source", b"crm"),
        ("trace", b"t1"),
        ("content-type", b"application/json"),
        ("correlation-id", b"corr-1"),
    ]
    assert record_headers(message, ["tr*"], None) == [
        ("trace", b"t1"),
        ("correlation-id", b"corr-1"),
    ]
    assert record_headers(message, [], None) == [("correlation-id", b"corr-1")]


def test_a_consumed_message_sent_on_keeps_its_headers_content_type_and_correlation() -> None:
    message = consumed(headers=[("source", b"crm"), ("correlation-id", b"c-1")])
    value, content_type = record_value(message)
    headers = dict(record_headers(message, ["*"], content_type))
    assert value == b'{"orderId": "A-17"}'
    assert headers == {"source": b"crm", "correlation-id": b"c-1"}


def test_data_bodies_are_sent_as_json() -> None:
    assert record_value(Message({"a": 1})) == (b'{"a":1}', "application/json")
    assert record_value(Message("text", content_type="text/plain")) == (b"text", "text/plain")
    with pytest.raises(MessageError, match="JSON"):
        record_value(Message({"a": object()}))


def test_the_key_from_an_expression_on_the_decoded_body_or_headers() -> None:
    by_body = key_function("customer.id", None)
    assert by_body(Message({"customer": {"id": "C-9"}})) == b"C-9"
    assert by_body(Message({"customer": {"id": 1234}})) == b"1234"
    by_header = key_function('$headers."order-id"', None)
    assert by_header(Message(b"raw", {"order-id": "A-1"})) == b"A-1"


def test_a_missing_key_is_a_bad_message() -> None:
    with pytest.raises(MessageError, match="gave no value"):
        key_function("customer.id", None)(Message({"other": 1}))
    with pytest.raises(MessageError, match="gave dict"):
        key_function("customer", None)(Message({"customer": {"id": 1}}))
    with pytest.raises(MessageError, match="header 'order-id'"):
        key_function(None, "order-id")(Message(b"x"))


def test_the_key_from_a_header_and_a_binary_key_round_trip() -> None:
    assert key_function(None, "order-id")(Message(b"x", {"order-id": "A-1"})) == b"A-1"
    message = consumed(key=b"\xff\x00")
    assert key_function(None, "kafka.key_base64")(message) == b"\xff\x00"
    assert key_function(None, None)(message) is None


def sink(tmp_path: Path, **raw: Any) -> KafkaSink:
    config = registry.get("sink", "kafka").parse({"topic": "orders", **raw})
    assert isinstance(config, KafkaSinkConfig)
    return KafkaSink(config, Context(tmp_path, "kafka-test"))


def test_the_topic_from_a_header_only_among_the_allowed(tmp_path: Path) -> None:
    chooser = sink(tmp_path, topic_header="route", allow_topics=["orders.eu", "orders.us"])
    assert chooser.topic_for(Message(b"x", {"route": "orders.eu"})) == "orders.eu"
    assert chooser.topic_for(Message(b"x")) == "orders"
    with pytest.raises(MessageError, match="topic 'audit', which is not in allow_topics"):
        chooser.topic_for(Message(b"x", {"route": "audit"}))
    assert sink(tmp_path).topic_for(Message(b"x", {"route": "audit"})) == "orders"
