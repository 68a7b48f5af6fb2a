"""``nats`` sink: publish each message to a subject, and confirm it.

How ``send`` confirms, by mode::

    core NATS, confirm: flush     publish, then a PING/PONG round trip: the server has it
    core NATS, confirm: request   request-reply: a responder answered (within timeout)
    JetStream (stream given)      publish and wait for the stream's PubAck

A JetStream publish carries ``Nats-Msg-Id`` (the message id, or the value of the header
named by ``dedup_header``), so a publish retried after a lost PubAck is stored once: the
server answers it with ``duplicate: true`` within the stream's duplicate window.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import orjson
from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentSpec
from splice.connectors.nats._connection import (
    NatsConnectionConfig,
    connect,
    declare,
    to_headers,
    translate,
)
from splice.errors import MessageError, NotConnected, TransientError
from splice.message import Message
from splice.types import Duration

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.js import JetStreamContext
    from nats.js.api import PubAck

__all__ = ["SPEC", "NatsSink", "NatsSinkConfig"]


class NatsSinkConfig(NatsConnectionConfig):
    subject: str = Field(description="Subject to publish to.")
    confirm: Literal["flush", "request"] = Field(
        "flush", description="Core NATS: `flush` (server received) or `request` (a reply)."
    )
    timeout: Duration = Field(5.0, gt=0, description="Seconds to wait for the confirmation.")
    dedup_header: str | None = Field(
        None, description="JetStream: header whose value is the `Nats-Msg-Id` (default: id)."
    )


SPEC = ComponentSpec(
    kind="sink",
    name="nats",
    summary="Publish to a NATS subject or a JetStream stream, waiting for confirmation.",
    config=NatsSinkConfig,
    example="nats: {subject: orders.created, stream: ORDERS}",
    factory="splice.connectors.nats.sink:NatsSink",
    shorthand="subject",
    description=(
        "With `stream`, waits for the PubAck and sets `Nats-Msg-Id` so retries are "
        "deduplicated; message headers become NATS headers. See docs/guides/nats.md."
    ),
)


class NatsSink(Sink):
    def __init__(self, config: NatsSinkConfig, context: Context) -> None:
        self.config = config
        self._name = f"splice:{context.flow}"
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        self.last_ack: PubAck | None = None
        """The PubAck of the last JetStream publish (``duplicate`` says if it was a repeat)."""

    async def open(self) -> None:
        if self._client is not None:
            return
        client = await connect(self.config, self._name)
        if self.config.stream is not None:
            try:
                self._js = client.jetstream()
                await declare(self._js, self.config.stream, self.config.subject)
            except Exception as exc:
                await client.close()
                raise NotConnected(f"nats sink: cannot declare the stream: {exc}") from exc
        self._client = client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def send(self, message: Message) -> None:
        client = self._client
        if client is None:
            raise NotConnected(f"nats sink to '{self.config.subject}' is not open")
        payload = _payload(message)
        headers = to_headers(message.headers)
        what = f"publish to '{self.config.subject}'"
        try:
            if self._js is not None:
                headers["Nats-Msg-Id"] = self._msg_id(message)
                self.last_ack = await self._js.publish(
                    self.config.subject, payload, timeout=self.config.timeout, headers=headers
                )
            elif self.config.confirm == "request":
                await client.request(
                    self.config.subject, payload, timeout=self.config.timeout, headers=headers
                )
            else:
                await client.publish(self.config.subject, payload, headers=headers or None)
                await client.flush(timeout=math.ceil(self.config.timeout))
        except Exception as exc:
            raise translate(exc, what) from exc
        if not client.is_connected and self._js is None and self.config.confirm == "flush":
            raise TransientError(f"{what}: disconnected before the flush", code="nats")

    def _msg_id(self, message: Message) -> str:
        key = self.config.dedup_header
        if key is None:
            return message.id
        value = message.headers.get(key)
        if not value:
            raise MessageError(f"header '{key}' (the dedup key) is missing", field=key)
        return value


def _payload(message: Message) -> bytes:
    if message.is_encoded or isinstance(message.body, str):
        return message.body_bytes()
    return orjson.dumps(message.body)
