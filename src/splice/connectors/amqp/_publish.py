"""A confirmed publish on an aiormq channel, for the amqp sink's hot path.

``aiormq.Channel.basic_publish`` costs about as much CPU as the rest of a message's trip
through splice: per call it builds a ``Countdown``, an ``asyncio.timeout`` and an
``asynccontextmanager``, takes the channel lock, builds pamqp objects for the method frame,
the content header and the body and marshals them attribute by attribute (pamqp walks all
fourteen properties and looks each one's type up by name).

:class:`ConfirmedPublisher` does what ``basic_publish`` does on a channel in confirm mode,
in the same order and with the same bookkeeping (the next delivery tag, its confirmation
future in ``channel.confirmations``, the message id mapped to the tag while a ``mandatory``
message may come back), but writes the frames itself: the ``Basic.Publish`` method frame is
marshalled once per routing key by pamqp and kept, and the content header is encoded here,
byte for byte as pamqp encodes it (``tests/connectors/amqp/test_publish_frames.py`` compares
the two on generated properties). The sink's own call deadline bounds the wait for the
confirm, as it bounds ``basic_publish``. Whatever is unusual (the channel lock held by
someone else, a full write queue, a header value that is not text) takes aiormq's path.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiormq.abc import AbstractChannel

__all__ = ["ConfirmedPublisher", "content_header_frame", "method_frame"]

_FRAME_END = b"\xce"
_HEADER_FRAME = struct.Struct(">BHIHHQH")
"""Frame type 2, channel, payload size, then class 60, weight 0, body size, property flags."""
_BODY_FRAME = struct.Struct(">BHI")
_FRAME_OVERHEAD = 8
"""Frame type, channel, size and the end marker around every frame's payload."""
_SHORT = struct.Struct(">B")
_LONG = struct.Struct(">I")
_MAX_KEY = 128
"""pamqp truncates longer field-table keys (with a warning): such tables are left to it."""
_ROUTING_KEYS = 256
"""Method frames kept per publisher (routing keys usually are a handful)."""

# Basic property flags, in the order the properties are written (AMQP 0-9-1, 4.2.6.1)
_CONTENT_TYPE = 0x8000
_HEADERS = 0x2000
_DELIVERY_MODE = 0x1000
_CORRELATION_ID = 0x0400
_MESSAGE_ID = 0x0080
_TYPE = 0x0020
_APP_ID = 0x0008


class _Unusual(Exception):
    """Properties this encoder leaves to pamqp."""


def _short(text: str) -> bytes:
    data = text.encode()
    if len(data) > 255:
        raise _Unusual
    return _SHORT.pack(len(data)) + data


def _table(headers: Mapping[str, Any]) -> bytes:
    """A field table of text values, as pamqp's ``encode.field_table`` writes it."""
    parts = []
    for key, value in sorted(headers.items()):
        name = key.encode()
        if len(name) > _MAX_KEY or type(value) is not str:
            raise _Unusual
        data = value.encode()
        parts.append(b"%c%bS%b%b" % (len(name), name, _LONG.pack(len(data)), data))
    table = b"".join(parts)
    return _LONG.pack(len(table)) + table


def content_header_frame(
    channel: int,
    body_size: int,
    *,
    content_type: str | None = None,
    headers: Mapping[str, Any] | None = None,
    delivery_mode: int | None = None,
    correlation_id: str | None = None,
    message_id: str | None = None,
    message_type: str | None = None,
    app_id: str | None = None,
) -> bytes | None:
    """The content header frame pamqp would write for these properties; None when they
    need pamqp (a long string, a header that is no text)."""
    flags = 0
    parts: list[bytes] = []
    try:
        if content_type:
            flags |= _CONTENT_TYPE
            parts.append(_short(content_type))
        if headers is not None:
            flags |= _HEADERS
            parts.append(_table(headers))
        if delivery_mode is not None:
            if delivery_mode not in (1, 2):
                return None
            flags |= _DELIVERY_MODE
            parts.append(_SHORT.pack(delivery_mode))
        if correlation_id:
            flags |= _CORRELATION_ID
            parts.append(_short(correlation_id))
        if message_id:
            flags |= _MESSAGE_ID
            parts.append(_short(message_id))
        if message_type:
            flags |= _TYPE
            parts.append(_short(message_type))
        if app_id:
            flags |= _APP_ID
            parts.append(_short(app_id))
    except _Unusual:
        return None
    properties = b"".join(parts)
    size = 14 + len(properties)
    head = _HEADER_FRAME.pack(2, channel, size, 60, 0, body_size, flags)
    return head + properties + _FRAME_END


def method_frame(channel: int, exchange: str, routing_key: str, mandatory: bool) -> bytes:
    """The ``Basic.Publish`` frame, marshalled by pamqp."""
    from pamqp import commands, frame

    publish = commands.Basic.Publish(
        exchange=exchange, routing_key=routing_key, mandatory=mandatory
    )
    return frame.marshal(publish, channel)


def _body_frames(channel: int, body: bytes, max_size: int) -> list[bytes]:
    if not body:
        return []
    step = max(max_size, 1)
    return [
        _BODY_FRAME.pack(3, channel, len(chunk)) + chunk + _FRAME_END
        for chunk in (body[i : i + step] for i in range(0, len(body), step))
    ]


def _lock_held(channel: Any) -> bool:
    """aiormq's channel lock (private to its ``Channel``) is held, or cannot be seen."""
    lock = getattr(channel, "_Channel__lock", None)
    return not isinstance(lock, asyncio.Lock) or lock.locked()


class ConfirmedPublisher:
    """Publishes on one channel in confirm mode; see the module docstring."""

    def __init__(self, channel: AbstractChannel, exchange: str, mandatory: bool) -> None:
        self.channel = channel
        self._exchange = exchange
        self._mandatory = mandatory
        self._methods: dict[str, bytes] = {}

    async def publish(self, body: bytes, routing_key: str, properties: Any) -> Any:
        """Publish and wait for the broker's confirm; returns what ``basic_publish`` returns
        (the ``Basic.Ack``), raises what it raises."""
        channel: Any = self.channel
        number: int = channel.number
        header = content_header_frame(
            number,
            len(body),
            content_type=properties.content_type,
            headers=properties.headers,
            delivery_mode=properties.delivery_mode,
            correlation_id=properties.correlation_id,
            message_id=properties.message_id,
            message_type=properties.message_type,
            app_id=properties.app_id,
        )
        if (
            header is None
            or not properties.message_id
            or not channel.publisher_confirms
            or _lock_held(channel)
            or channel.is_closed
            or channel.write_queue.full()
            or properties.priority is not None
            or properties.content_encoding
            or properties.reply_to
            or properties.expiration
            or properties.timestamp is not None
            or properties.user_id
            or properties.cluster_id
        ):
            return await self._fallback(body, routing_key, properties)
        method = self._methods.get(routing_key)
        if method is None:
            method = method_frame(number, self._exchange, routing_key, self._mandatory)
            if len(self._methods) < _ROUTING_KEYS:
                self._methods[routing_key] = method
        payload = b"".join([method, header, *_body_frames(number, body, channel.max_content_size)])
        from aiormq.abc import ChannelFrame

        channel.delivery_tag += 1
        tag: int = channel.delivery_tag
        confirmation: asyncio.Future[Any] = channel.create_future()
        channel.confirmations[tag] = confirmation
        if self._mandatory:  # a returned message is matched to its tag by message id
            message_id: str = properties.message_id
            ids: dict[str, int] = channel.message_id_delivery_tag
            ids[message_id] = tag

            def forget(_: object) -> None:
                if ids.get(message_id) == tag:
                    del ids[message_id]

            confirmation.add_done_callback(forget)
        channel.write_queue.put_nowait(ChannelFrame(payload=payload, should_close=False))
        return await confirmation

    async def _fallback(self, body: bytes, routing_key: str, properties: Any) -> Any:
        return await self.channel.basic_publish(
            body,
            exchange=self._exchange,
            routing_key=routing_key,
            properties=properties,
            mandatory=self._mandatory,
        )
