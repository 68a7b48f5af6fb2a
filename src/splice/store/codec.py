"""The one place where a :class:`~splice.message.Message` becomes table columns and back.

An encoded body (``bytes``) is stored as given in ``body`` (``body_kind='bytes'``); a
``str`` body is stored UTF-8 encoded (``'text'``); a decoded body (any JSON value) is stored
as JSON in ``data`` (``'data'``). Headers, lineage and the routing targets are JSON. A
decoded body that is not JSON (a ``set``, a ``Decimal``, a ``datetime``, non-string keys)
is refused with a :class:`StoreError` rather than stored with a changed type; tuples come
back as lists, as from any JSON codec.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from splice.message import Hop, Message
from splice.store.errors import StoreError

__all__ = ["MESSAGE_FIELDS", "decode_message", "encode_message"]

# Refuse datetimes and dataclasses instead of quietly turning them into strings and dicts.
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

MESSAGE_FIELDS = (
    "message_id",
    "correlation_id",
    "content_type",
    "headers",
    "body_kind",
    "body",
    "data",
    "lineage",
    "attempts",
    "targets",
)


def encode_message(message: Message) -> dict[str, Any]:
    """The column values that store ``message``."""
    kind, body, data = _encode_body(message)
    return {
        "message_id": message.id,
        "correlation_id": message.correlation_id,
        "content_type": message.content_type,
        "headers": dict(message.headers),
        "body_kind": kind,
        "body": body,
        "data": data,
        "lineage": [hop.as_dict() for hop in message.lineage],
        "attempts": message.attempts,
        "targets": list(message.targets) if message.targets is not None else None,
    }


def decode_message(row: Mapping[Any, Any]) -> Message:
    """The message stored in ``row`` (a result row mapping with the :data:`MESSAGE_FIELDS`)."""
    targets = row["targets"]
    return Message(
        body=_decode_body(row["body_kind"], row["body"], row["data"]),
        headers=dict(row["headers"]),
        content_type=row["content_type"],
        id=row["message_id"],
        correlation_id=row["correlation_id"],
        lineage=[Hop(**hop) for hop in row["lineage"]],
        attempts=row["attempts"],
        targets=tuple(targets) if targets is not None else None,
    )


def _encode_body(message: Message) -> tuple[str, bytes | None, Any]:
    body = message.body
    if isinstance(body, bytes | bytearray | memoryview):
        return "bytes", bytes(body), None
    if isinstance(body, str):
        return "text", body.encode(), None
    try:
        # Round-trip through orjson: refuses non-JSON values and gives plain JSON types.
        return "data", None, orjson.loads(orjson.dumps(body, option=_STRICT))
    except TypeError as exc:
        raise StoreError(
            f"message {message.id}: decoded body is not JSON and cannot be stored: {exc}",
            code="store-unserialisable",
        ) from exc


def _decode_body(kind: str, body: bytes | None, data: Any) -> Any:
    if kind == "bytes":
        return bytes(body or b"")
    if kind == "text":
        return (body or b"").decode()
    if kind == "data":
        return data
    raise StoreError(f"unknown stored body kind {kind!r}", code="store-corrupt")
