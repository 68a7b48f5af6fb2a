"""``amqp`` source: consume a queue with manual acks, at least once.

The broker hands over at most ``prefetch`` unacknowledged messages; they wait in a small
inbox until the runtime pulls them, so a flow that does not pull stops the broker from
sending more (backpressure). By default ``prefetch`` is twice the flow's ``max_in_flight``:
while the flow works on one window of messages the next one is already here, so the flow
never waits a broker round trip. A ``prefetch`` below ``max_in_flight`` caps the flow's
concurrency at ``prefetch`` (a warning says so at start). Settling::

    delivery.ack()                 basic.ack        the broker forgets the message (acks of
                                                    one loop turn go as one multiple ack, see
                                                    _acks.py)
    delivery.nack(MessageError)    basic.reject     requeue=false: dead-lettered by the queue's
                                                    x-dead-letter-exchange, else dropped
    delivery.nack(other error)     basic.reject     requeue=true: delivered again, with
                                                    amqp.redelivered "true"

When the connection is lost, or the broker could not be reached at start, the source
reconnects with exponential backoff (from ``reconnect_initial`` up to ``reconnect_max``) and
resumes consuming. Messages received on
the lost connection and not yet pulled are dropped; the broker delivers them again, as it
does any message whose ack did not reach it (settling such a message only logs).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.reconnect import connect_or_wait, until_connected
from splice.components.spec import ComponentSpec, ScalesOut
from splice.connectors.amqp._acks import AckWindow
from splice.connectors.amqp._connection import (
    AmqpConnectionConfig,
    connect,
    describe,
    message_from,
    safe_url,
)
from splice.errors import MessageError, NotConnected
from splice.message import Message
from splice.types import Duration

if TYPE_CHECKING:
    from aiormq.abc import AbstractChannel, AbstractConnection, DeliveredMessage

__all__ = ["SPEC", "AmqpSource", "AmqpSourceConfig"]

log = logging.getLogger(__name__)


MAX_PREFETCH = 65535
"""The largest prefetch count AMQP 0-9-1 can carry (a 16-bit field)."""


class AmqpSourceConfig(AmqpConnectionConfig):
    queue: str = Field(description="Queue to consume (declare it under `declare` if needed).")
    prefetch: int | None = Field(
        None,
        ge=1,
        le=MAX_PREFETCH,
        description="Most unacknowledged messages held at once "
        "(default: twice the flow's `max_in_flight`).",
    )
    exclusive: bool = Field(False, description="Be the queue's only consumer.")
    reconnect_initial: Duration = Field(0.5, gt=0, description="First wait before reconnecting.")
    reconnect_max: Duration = Field(30.0, gt=0, description="Longest wait between reconnects.")


SPEC = ComponentSpec(
    kind="source",
    name="amqp",
    summary="Consume a RabbitMQ (AMQP 0-9-1) queue with manual acks and prefetch.",
    config=AmqpSourceConfig,
    example="amqp: {queue: orders, prefetch: 50}",
    factory="splice.connectors.amqp.source:AmqpSource",
    shorthand="queue",
    description=(
        "A message is acked only after every sink confirmed it; a bad message is rejected "
        "without requeue (to the queue's dead-letter exchange), any other failure requeues "
        "it. Headers: the AMQP headers plus `amqp.exchange`, `amqp.routing_key`, "
        "`amqp.redelivered`, `amqp.message_id`, `amqp.type`, `amqp.app_id`."
    ),
    scales_out=ScalesOut("unless `exclusive`", lambda config: not config.exclusive),
)

_CLOSED = object()


def prefetch_for(configured: int | None, max_in_flight: int) -> int:
    """The prefetch count to ask for: as configured, else two windows of ``max_in_flight``."""
    return configured if configured is not None else min(2 * max_in_flight, MAX_PREFETCH)


class AmqpSource(Source):
    def __init__(self, config: AmqpSourceConfig, context: Context) -> None:
        self.config = config
        self.prefetch = prefetch_for(config.prefetch, context.flow_max_in_flight)
        self._target = f"{safe_url(config)} queue '{config.queue}'"
        if self.prefetch < context.flow_max_in_flight:
            log.warning(
                "flow '%s': amqp prefetch %d is below max_in_flight %d: at most %d of its "
                "messages are in flight at once",
                context.flow,
                self.prefetch,
                context.flow_max_in_flight,
                self.prefetch,
            )
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._acks: AckWindow | None = None
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._closed = False
        self._stopping = asyncio.Event()

    async def open(self) -> None:
        """Connect and consume. A broker that cannot be reached (``amqp-connect``) does not
        stop the flow: consuming starts once it is reached (:meth:`deliveries` reconnects with
        backoff). A refused login or topology, or a queue it cannot consume, raises."""
        self._closed = False
        self._stopping.clear()
        await connect_or_wait(self._connect, unreachable="amqp-connect", log=log)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._stopping.set()
            self._inbox.put_nowait(_CLOSED)
            await self._drop()

    async def deliveries(self) -> AsyncIterator[Delivery]:
        while not self._closed:
            if self._channel is None or self._channel.is_closed:
                await self._reconnect()
                continue
            item = await self._inbox.get()
            if item is _CLOSED:
                return
            if isinstance(item, _Lost):
                if item.channel is self._channel:
                    await self._drop()
                continue
            if item.channel is self._channel and not item.channel.is_closed:
                yield self._delivery(item)

    # -- connection ------------------------------------------------------------------------

    async def _connect(self) -> None:
        connection, channel = await connect(self.config, confirms=False, prefetch=self.prefetch)
        try:
            await channel.basic_consume(
                self.config.queue, self._receive, exclusive=self.config.exclusive
            )
        except BaseException as exc:
            await connection.close()
            if isinstance(exc, Exception):
                raise NotConnected(
                    f"cannot consume {self._target}: {describe(exc)}", code="amqp-consume"
                ) from exc
            raise
        self._connection, self._channel = connection, channel
        self._acks = AckWindow(channel, hold=self.prefetch // 2)
        watcher = channel.closing
        watcher.add_done_callback(lambda done: self._on_lost(done, channel))

    async def _receive(self, delivered: DeliveredMessage) -> None:
        self._inbox.put_nowait(delivered)

    def _on_lost(self, done: asyncio.Future[Any], channel: AbstractChannel) -> None:
        error = None if done.cancelled() else done.exception()
        if not self._closed:
            log.warning("lost %s: %s", self._target, describe(error) if error else "closed")
            self._inbox.put_nowait(_Lost(channel))

    async def _reconnect(self) -> None:
        """Connect again, waiting longer after each failure, until connected or closed."""
        await self._drop()
        await until_connected(
            self._connect, self._stopping, self.config, log=log, what=self._target, undo=self._drop
        )

    async def _drop(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        acks, self._acks = self._acks, None
        if acks is not None:
            await acks.close()
        if connection is not None:
            try:
                await connection.close()
            except Exception as exc:  # already gone
                log.debug("closing the AMQP connection to %s: %s", self._target, exc)

    # -- settling --------------------------------------------------------------------------

    def _delivery(self, delivered: DeliveredMessage) -> Delivery:
        acks, tag = self._acks, delivered.delivery_tag or 0
        assert acks is not None

        async def ack(outputs: Sequence[Message]) -> None:
            acks.ack(tag)

        async def nack(error: BaseException) -> None:
            await self._reject(acks, tag, requeue=not isinstance(error, MessageError))

        return Delivery(message_from(delivered), ack, nack)

    async def _reject(self, acks: AckWindow, tag: int, *, requeue: bool) -> None:
        """Reject now; a message of a lost channel comes back anyway."""
        if acks.channel.is_closed:
            log.info("cannot reject message %d: its connection is gone; it comes back", tag)
            return
        try:
            await acks.reject(tag, requeue=requeue)
        except Exception as exc:
            log.warning("cannot reject message %d on %s: %s", tag, self._target, describe(exc))


class _Lost:
    """Put in the inbox when ``channel`` closed: everything before it is stale."""

    __slots__ = ("channel",)

    def __init__(self, channel: AbstractChannel) -> None:
        self.channel = channel
