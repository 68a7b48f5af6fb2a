"""``amqp`` sink: publish each message to an exchange and wait for the broker's confirm.

With ``confirm: true`` (the default) the channel is in publisher-confirm mode and ``send``
returns only once the broker acked this very message; concurrent sends are pipelined on
the one channel, each awaiting its own confirm. How an outcome is classified::

    broker ack                                   delivered
    broker nack                                  TransientError   (the broker could not take it)
    returned as unroutable (mandatory: true)     PermanentError   (no queue is bound for it)
    connection or channel lost, not connected    TransientError / NotConnected

After a connection loss the sink reconnects on the next ``send``; the runtime's retry
policy supplies the backoff. A message whose confirm was lost with the connection may
have reached the queue: retrying it gives at-least-once delivery, never a loss.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import orjson
from pydantic import Field, model_validator

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentSpec
from splice.connectors.amqp._connection import (
    AmqpConnectionConfig,
    HeaderFilter,
    connect,
    describe,
    properties_for,
    safe_url,
)
from splice.connectors.amqp._publish import ConfirmedPublisher
from splice.errors import MessageError, NotConnected, PermanentError, TransientError
from splice.message import Message

if TYPE_CHECKING:
    from aiormq.abc import AbstractChannel, AbstractConnection

__all__ = ["SPEC", "AmqpSink", "AmqpSinkConfig"]

log = logging.getLogger(__name__)


class AmqpSinkConfig(AmqpConnectionConfig):
    exchange: str = Field("", description="Exchange to publish to (`''`: the default exchange).")
    routing_key: str = Field("", description="Routing key (with the default exchange: a queue).")
    routing_key_header: str | None = Field(
        None, description="Take the routing key from this message header when it is present."
    )
    persistent: bool = Field(True, description="Delivery mode 2: the broker writes it to disk.")
    confirm: bool = Field(True, description="Publisher confirms: `send` waits for the broker.")
    mandatory: bool = Field(
        False, description="Refuse a message no queue is bound for (a PermanentError)."
    )
    content_type: str | None = Field(
        None, description="Content type to send (default: the message's, or JSON for data)."
    )
    headers: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Glob patterns of the message headers sent as AMQP headers "
        "(`[]`: none; secret-named headers are never sent).",
    )
    type: str | None = Field(None, description="AMQP `type` property (header `amqp.type` wins).")
    app_id: str | None = Field(
        None, description="AMQP `app_id` property (header `amqp.app_id` wins)."
    )

    @model_validator(mode="after")
    def _mandatory_needs_confirm(self) -> AmqpSinkConfig:
        if self.mandatory and not self.confirm:
            raise ValueError("mandatory: true needs confirm: true to learn of a returned message")
        return self


SPEC = ComponentSpec(
    kind="sink",
    name="amqp",
    summary="Publish each message to a RabbitMQ (AMQP 0-9-1) exchange with publisher confirms.",
    config=AmqpSinkConfig,
    example="amqp: {exchange: orders, routing_key: created, mandatory: true}",
    factory="splice.connectors.amqp.sink:AmqpSink",
    shorthand="exchange",
    description=(
        "`send` returns once the broker confirmed the message (publisher confirms, pipelined). "
        "A broker nack or a lost connection is transient; an unroutable message with "
        "`mandatory: true` is permanent. Message headers become AMQP headers; the content "
        "type, correlation id and message id become AMQP properties."
    ),
)


class AmqpSink(Sink):
    def __init__(self, config: AmqpSinkConfig, context: Context) -> None:
        self.config = config
        self._target = f"{safe_url(config)} exchange '{config.exchange}'"
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._publisher: ConfirmedPublisher | None = None
        self._connecting = asyncio.Lock()
        self._closed = False
        self._forward = HeaderFilter(config.headers)
        self._defaults = {
            key: value
            for key, value in (("message_type", config.type), ("app_id", config.app_id))
            if value is not None
        }

    async def open(self) -> None:
        self._closed = False
        await self._ensure_channel()

    async def close(self) -> None:
        self._closed = True
        await self._drop()

    async def send(self, message: Message) -> None:
        body, content_type = self._encode(message)
        properties = properties_for(
            message,
            persistent=self.config.persistent,
            content_type=content_type,
            defaults=self._defaults,
            forward=self._forward,
        )
        routing_key = self.config.routing_key
        if self.config.routing_key_header is not None:
            routing_key = message.headers.get(self.config.routing_key_header, routing_key)
        channel = await self._ensure_channel()
        await self._publish(channel, body, routing_key, properties)

    async def _publish(
        self, channel: AbstractChannel, body: bytes, routing_key: str, properties: object
    ) -> None:
        from aiormq.exceptions import AMQPError, DeliveryError, PublishError

        try:
            if self.config.confirm:
                await self._publisher_for(channel).publish(body, routing_key, properties)
            else:
                await channel.basic_publish(
                    body,
                    exchange=self.config.exchange,
                    routing_key=routing_key,
                    properties=properties,  # type: ignore[arg-type]
                    mandatory=self.config.mandatory,
                    wait=True,  # type: ignore[call-arg]  # aiormq.Channel has it
                )
        except PublishError as exc:
            raise PermanentError(
                f"{self._target} returned the message as unroutable (routing key "
                f"'{routing_key}'): no queue is bound for it",
                code="amqp-unroutable",
            ) from exc
        except DeliveryError as exc:
            raise TransientError(
                f"{self._target} refused the message (nack)", code="amqp-nack"
            ) from exc
        except (AMQPError, OSError, RuntimeError) as exc:
            await self._forget(channel)
            raise TransientError(
                f"lost the connection to {self._target}: {describe(exc)}", code="amqp-connection"
            ) from exc

    def _publisher_for(self, channel: AbstractChannel) -> ConfirmedPublisher:
        publisher = self._publisher
        if publisher is None or publisher.channel is not channel:
            publisher = self._publisher = ConfirmedPublisher(
                channel, self.config.exchange, self.config.mandatory
            )
        return publisher

    def _encode(self, message: Message) -> tuple[bytes, str | None]:
        if message.is_encoded or isinstance(message.body, str):
            return message.body_bytes(), self.config.content_type or message.content_type
        try:
            body = orjson.dumps(message.body)
        except TypeError as exc:
            raise MessageError(f"the body cannot be sent as JSON: {exc}") from exc
        return body, self.config.content_type or "application/json"

    async def _ensure_channel(self) -> AbstractChannel:
        """The open channel; connects once (shared by concurrent sends) when there is none."""
        channel = self._channel
        if channel is not None and not channel.is_closed:
            return channel
        async with self._connecting:
            if self._closed:
                raise NotConnected(f"amqp sink to {self._target} is closed")
            if self._channel is None or self._channel.is_closed:
                await self._drop()
                self._connection, self._channel = await connect(
                    self.config, confirms=self.config.confirm
                )
            return self._channel

    async def _forget(self, channel: AbstractChannel) -> None:
        """Drop the connection that ``channel`` belongs to (not a newer one)."""
        if self._channel is channel:
            await self._drop()

    async def _drop(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            try:
                await connection.close()
            except Exception as exc:  # the connection is already gone
                log.debug("closing the AMQP connection to %s: %s", self._target, exc)
