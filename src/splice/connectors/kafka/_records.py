"""Kafka records <-> splice messages: headers, key and body, both ways. Pure functions.

A consumed record becomes a message::

    record value              body (bytes; a tombstone, no value, is b"")
    record headers            message headers (values read as UTF-8)
    header content-type       Message.content_type
    header correlation-id     Message.correlation_id
    topic, partition, offset  headers kafka.topic, kafka.partition, kafka.offset
    key                       header kafka.key (UTF-8), or kafka.key_base64 when it is not text
    timestamp                 header kafka.timestamp (milliseconds since the epoch)

A message becomes a record: the headers matching the sink's ``headers`` patterns are sent
(never ``kafka.*`` ones, never a header whose name names a secret), plus ``content-type``
and ``correlation-id``; a body that is data is sent as JSON.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from splice.errors import MessageError
from splice.mapping import UNDEFINED, compile_mapping
from splice.message import Message
from splice.secrets import is_secret_key

__all__ = ["key_function", "message_from", "record_headers", "record_value"]

CONTENT_TYPE = "content-type"
CORRELATION_ID = "correlation-id"


def message_from(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    timestamp: int | None,
    message_id: str,
) -> Message:
    """The message for one consumed record (see the module docstring)."""
    fields = {name: _text(raw) for name, raw in headers}
    content_type = fields.pop(CONTENT_TYPE, None)
    correlation_id = fields.pop(CORRELATION_ID, "")
    fields["kafka.topic"] = topic
    fields["kafka.partition"] = str(partition)
    fields["kafka.offset"] = str(offset)
    if key is not None:
        try:
            fields["kafka.key"] = key.decode("utf-8")
        except UnicodeDecodeError:
            fields["kafka.key_base64"] = base64.b64encode(key).decode("ascii")
    if timestamp is not None:
        fields["kafka.timestamp"] = str(timestamp)
    return Message(
        value if value is not None else b"",
        fields,
        content_type,
        id=message_id,
        correlation_id=correlation_id,
    )


def _text(raw: bytes | None) -> str:
    return "" if raw is None else raw.decode("utf-8", "replace")


def record_value(message: Message) -> tuple[bytes, str | None]:
    """The record value and its content type: bytes as they are, data as JSON."""
    if message.is_encoded or isinstance(message.body, str):
        return message.body_bytes(), message.content_type
    try:
        return orjson.dumps(message.body), message.content_type or "application/json"
    except TypeError as exc:
        raise MessageError(f"the body cannot be sent as JSON: {exc}") from exc


def record_headers(
    message: Message, forward: Sequence[str], content_type: str | None
) -> list[tuple[str, bytes]]:
    """Kafka headers for ``message``: the forwarded ones, content type, correlation id."""
    headers = [
        (name, value.encode("utf-8"))
        for name, value in message.headers.items()
        if _forwarded(name, forward)
    ]
    if content_type:
        headers.append((CONTENT_TYPE, content_type.encode("utf-8")))
    if message.correlation_id:
        headers.append((CORRELATION_ID, message.correlation_id.encode("utf-8")))
    return headers


def _forwarded(name: str, patterns: Sequence[str]) -> bool:
    lowered = name.lower()
    if lowered.startswith("kafka.") or lowered in (CONTENT_TYPE, CORRELATION_ID):
        return False
    if is_secret_key(name):
        return False
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


KeyFunction = Callable[[Message], bytes | None]


def key_function(expression: str | None, header: str | None) -> KeyFunction:
    """How the sink finds a message's record key: none, a header, or a JSONata expression.

    A header holding ``kafka.key_base64`` is decoded, so a key that is not text is kept as
    it was consumed. A missing key is a :class:`MessageError`: a flow that names a key
    relies on it for ordering and compaction.
    """
    if header is not None:
        return lambda message: _header_key(message, header)
    if expression is not None:
        mapping = compile_mapping(expression)

        def evaluate(message: Message) -> bytes:
            data = UNDEFINED if message.is_encoded else message.body
            return _key_bytes(mapping.evaluate(data, headers=message.headers), expression)

        return evaluate
    return lambda message: None


def _header_key(message: Message, header: str) -> bytes:
    value = message.headers.get(header)
    if value is None or value == "":
        raise MessageError(f"header '{header}' (the record key) is missing", field=header)
    if header.endswith("key_base64"):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise MessageError(f"header '{header}' is not base64", field=header) from exc
    return value.encode("utf-8")


def _key_bytes(value: Any, expression: str) -> bytes:
    if value is UNDEFINED or value is None or value == "":
        raise MessageError(f"the key expression '{expression}' gave no value")
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bool | dict | list):
        raise MessageError(f"the key expression '{expression}' gave {type(value).__name__}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).encode("utf-8")
