"""``nats`` source: core NATS subscriptions, or a JetStream durable pull consumer.

Core NATS (no ``stream``) is at-most-once: a message is handed over as it arrives and
NATS cannot redeliver it, so ack and nack change nothing. Several flows subscribed with the
same ``queue`` share the messages.

JetStream (``stream`` given, ``durable`` required) is at-least-once: the source fetches up
to ``batch`` messages when the runtime pulls, and settles each one explicitly::

    ack                      msg.ack_sync()            removed (the server confirmed it)
    nack(MessageError)       msg.term()                never redelivered (it was dead-lettered)
    nack(anything else)      msg.nak(nak_delay)        redelivered after nak_delay
    not settled in ack_wait  (server)                  redelivered

Once connected, nats-py reconnects by itself. A server that cannot be reached at start does
not stop the flow: the source connects and subscribes with backoff (``reconnect_initial``
up to ``reconnect_max``) when the runtime first pulls. Refused credentials, or a stream or
consumer the server will not create, stop the start.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.outstanding import Outstanding
from splice.components.reconnect import connect_or_wait, until_connected
from splice.components.spec import ComponentSpec, ScalesOut
from splice.connectors.nats._connection import (
    NatsConnectionConfig,
    connect,
    declare,
    from_headers,
    log,
)
from splice.errors import MessageError, NotConnected
from splice.message import Message
from splice.types import Duration

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.aio.msg import Msg

__all__ = ["SPEC", "NatsSource", "NatsSourceConfig"]

_POLL = 0.5
_ACK_TIMEOUT = 5.0


class NatsSourceConfig(NatsConnectionConfig):
    subject: str = Field(description="Subject to subscribe to (wildcards `*` and `>` allowed).")
    queue: str | None = Field(None, description="Core NATS queue group (competing consumers).")
    durable: str | None = Field(None, description="JetStream durable consumer name.")
    batch: int = Field(10, ge=1, le=1000, description="JetStream messages fetched per pull.")
    ack_wait: Duration = Field(30.0, gt=0, description="JetStream redelivery after no ack.")
    nak_delay: Duration = Field(1.0, ge=0, description="Redelivery delay after a failure.")
    settle_timeout: Duration = Field(
        30.0, ge=0, description="At close, how long to wait for deliveries to be settled."
    )
    reconnect_initial: Duration = Field(
        0.5, gt=0, description="First wait before connecting again when none answered at start."
    )
    reconnect_max: Duration = Field(30.0, gt=0, description="Longest wait between attempts.")

    @model_validator(mode="after")
    def _mode(self) -> NatsSourceConfig:
        if self.stream is not None and self.durable is None:
            raise ValueError("a JetStream source (stream) needs a durable consumer name")
        if self.stream is None and self.durable is not None:
            raise ValueError("durable needs a JetStream stream")
        if self.stream is not None and self.queue is not None:
            raise ValueError("queue is for core NATS; JetStream consumers share by durable")
        return self


SPEC = ComponentSpec(
    kind="source",
    name="nats",
    summary="Receive from a NATS subject, or from a JetStream durable pull consumer.",
    config=NatsSourceConfig,
    example="nats: {subject: orders.created, stream: ORDERS, durable: erp-loader}",
    factory="splice.connectors.nats.source:NatsSource",
    shorthand="subject",
    description=(
        "Core NATS is at-most-once; with `stream` and `durable` every message is acked only "
        "once the flow delivered it, and redelivered otherwise. NATS headers become message "
        "headers, plus `nats.subject`. See docs/guides/nats.md."
    ),
    scales_out=ScalesOut(
        "with a `queue` group or a JetStream `durable`",
        lambda config: bool(config.queue or config.durable),
    ),
)


class NatsSource(Source):
    def __init__(self, config: NatsSourceConfig, context: Context) -> None:
        self.config = config
        self._name = f"splice:{context.flow}"
        self._client: Client | None = None
        self._reader: Any = None
        self._closed = asyncio.Event()
        self._outstanding = Outstanding("they will be redelivered")

    async def open(self) -> None:
        """Connect and subscribe. No server answering (``nats-connect``) does not stop the
        flow: :meth:`deliveries` connects with backoff. Anything else raises."""
        if self._client is not None:
            return
        await connect_or_wait(self._connect, unreachable="nats-connect", log=log)

    async def _connect(self) -> None:
        client = await connect(self.config, self._name)
        try:
            self._reader = await self._subscribe(client)
        except Exception as exc:
            await client.close()
            raise NotConnected(f"nats source on '{self.config.subject}': {exc}") from exc
        self._client = client

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def _subscribe(self, client: Client) -> Any:
        config = self.config
        if config.stream is None:
            return await client.subscribe(config.subject, queue=config.queue or "")
        from nats.js.api import AckPolicy, ConsumerConfig

        js = client.jetstream()
        await declare(js, config.stream, config.subject)
        consumer = ConsumerConfig(
            durable_name=config.durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=config.ack_wait,
        )
        return await js.pull_subscribe(
            config.subject, durable=config.durable, stream=config.stream.name, config=consumer
        )

    async def close(self) -> None:
        self._closed.set()
        client, self._client = self._client, None
        if client is None:
            return
        await self._outstanding.wait(self.config.settle_timeout)
        await client.close()

    async def deliveries(self) -> AsyncIterator[Delivery]:
        if self._client is None:
            what = f"NATS for '{self.config.subject}'"
            await until_connected(
                self._connect, self._closed, self.config, log=log, what=what, undo=self._drop_client
            )
        while not self._closed.is_set():
            for msg in await self._next():
                if self.config.stream is None:
                    yield Delivery(_message(msg))
                else:
                    self._outstanding.add()
                    yield _Settlement(msg, self.config.nak_delay, self._outstanding).delivery

    async def _next(self) -> Sequence[Msg]:
        from nats import errors

        try:
            if self.config.stream is None:
                return [await self._reader.next_msg(timeout=_POLL)]
            messages: list[Msg] = await self._reader.fetch(self.config.batch, timeout=_POLL)
            return messages
        except errors.TimeoutError:
            return []
        except (errors.ConnectionClosedError, errors.BadSubscriptionError):
            if self._closed.is_set():
                return []
            raise
        except errors.Error as exc:  # reconnecting: wait and pull again
            log.debug("nats source: %s", exc)
            await asyncio.sleep(_POLL)
            return []


def _message(msg: Msg) -> Message:
    headers = from_headers(msg.headers)
    headers["nats.subject"] = msg.subject
    return Message(body=msg.data, headers=headers)


class _Settlement:
    """Settles one JetStream message once, whatever the runtime decides."""

    def __init__(self, msg: Msg, nak_delay: float, outstanding: Outstanding) -> None:
        self.msg = msg
        self.nak_delay = nak_delay
        self.outstanding = outstanding
        self.delivery = Delivery(_message(msg), self._ack, self._nack)

    async def _ack(self, outputs: Sequence[Message]) -> None:
        try:  # confirmed by the server, so that an ack that got lost is known
            await self.msg.ack_sync(timeout=_ACK_TIMEOUT)
        finally:
            self.outstanding.done()

    async def _nack(self, error: BaseException) -> None:
        try:
            if isinstance(error, MessageError):
                await self.msg.term()
            else:
                await self.msg.nak(delay=self.nak_delay or None)
        finally:
            self.outstanding.done()
