"""``mqtt`` source: subscribe to topics and deliver each message, at least once for QoS 1.

Acknowledgements are manual: the PUBACK (QoS 1) or PUBCOMP (QoS 2) for a message is sent
only when the runtime acks its delivery, that is after every sink confirmed it. The broker
keeps a limited number of unacknowledged messages in flight per client (Mosquitto:
``max_inflight_messages``, 20 by default), so a flow that does not pull stops the flow of
QoS 1/2 messages (backpressure). QoS 0 messages have no acknowledgement and no flow control.

Settling::

    delivery.ack()                 PUBACK / PUBCOMP: the broker forgets the message
    delivery.nack(MessageError)    acknowledged as well (MQTT has no reject); logged
    delivery.nack(other error)     not acknowledged; the connection is reopened so that a
                                   persistent session (clean_session: false) gets it again

Guarantees: with ``qos: 1`` and ``clean_session: false`` (and a fixed ``client_id``) a
message is delivered at least once, across connection losses and broker restarts (when
the broker persists sessions): every message not yet acknowledged is sent again by the
broker on reconnect. With ``clean_session: true`` the broker forgets the session when the
connection ends: messages in flight or published meanwhile are lost. QoS 2 gives no more
than QoS 1 here: the broker regards a QoS 2 message as handed over once the client has
answered PUBREC, which paho-mqtt does on receipt, so a message received but not yet
processed when the connection drops is not sent again.

On connection loss, or when the broker cannot be reached at start, the source connects
with exponential backoff and subscribes again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import Field, field_validator, model_validator

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.reconnect import connect_or_wait, until_connected
from splice.components.spec import ComponentSpec, ScalesOut
from splice.connectors.mqtt._connection import (
    MqttConnectionConfig,
    QoS,
    connect,
    describe,
    disconnect,
    is_connected,
)
from splice.errors import MessageError, NotConnected
from splice.message import Message
from splice.types import Duration

if TYPE_CHECKING:
    import aiomqtt

__all__ = ["SPEC", "MqttSource", "MqttSourceConfig"]

log = logging.getLogger(__name__)


class MqttSourceConfig(MqttConnectionConfig):
    topics: list[str] = Field(
        min_length=1, description="Topic filters to subscribe to; `+` and `#` are wildcards."
    )
    qos: QoS = Field(1, description="Subscription QoS: 0 at most once, 1 at least once, 2.")
    clean_session: bool = Field(
        True,
        description="`false`: the broker keeps the session and queues messages while "
        "disconnected (needs a `client_id`).",
    )
    reconnect_initial: Duration = Field(0.5, gt=0, description="First wait before reconnecting.")
    reconnect_max: Duration = Field(30.0, gt=0, description="Longest wait between reconnects.")

    @field_validator("topics")
    @classmethod
    def _filters(cls, topics: list[str]) -> list[str]:
        for topic in topics:
            levels = topic.split("/")
            bad_hash = "#" in topic and (levels[-1] != "#" or topic.count("#") > 1)
            bad_plus = any("+" in level and level != "+" for level in levels)
            if not topic or bad_hash or bad_plus:
                raise ValueError(f"'{topic}' is not a valid topic filter")
        return topics

    @model_validator(mode="after")
    def _session_needs_identity(self) -> MqttSourceConfig:
        if not self.clean_session and not self.client_id:
            raise ValueError("clean_session: false needs a client_id to find the session again")
        return self


SPEC = ComponentSpec(
    kind="source",
    name="mqtt",
    summary="Subscribe to MQTT topics; QoS 1 messages are acknowledged after the sinks confirmed.",
    config=MqttSourceConfig,
    example="mqtt: {topics: ['plant/+/temperature'], qos: 1, client_id: splice-plant, "
    "clean_session: false}",
    factory="splice.connectors.mqtt.source:MqttSource",
    shorthand="topics",
    description=(
        "Acknowledgements are manual: PUBACK is sent when every sink confirmed. With "
        "`qos: 1`, `clean_session: false` and a fixed `client_id`, delivery is at least "
        "once across reconnects and broker restarts. Headers: `mqtt.topic`, `mqtt.qos`, "
        "`mqtt.retain`."
    ),
    scales_out=ScalesOut(
        "when every topic is a shared subscription (`$share/<group>/...`) and no "
        "`client_id` is set",
        lambda config: (
            config.client_id is None and all(topic.startswith("$share/") for topic in config.topics)
        ),
    ),
)


class MqttSource(Source):
    def __init__(self, config: MqttSourceConfig, context: Context) -> None:
        self.config = config
        self._client: aiomqtt.Client | None = None
        self._closed = asyncio.Event()

    async def open(self) -> None:
        """Connect and subscribe. A broker that cannot be reached (``mqtt-connect``) does not
        stop the flow: :meth:`deliveries` connects with backoff. A refused connection or
        subscription raises."""
        self._closed.clear()
        await connect_or_wait(self._connect, unreachable="mqtt-connect", log=log)

    async def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            await self._drop_client()

    async def deliveries(self) -> AsyncIterator[Delivery]:
        import aiomqtt

        while not self._closed.is_set():
            client = self._client
            if client is None or not is_connected(client):
                await self._reconnect()
                continue
            try:
                received = await anext(client.messages)
            except aiomqtt.MqttError as exc:
                if not self._closed.is_set():
                    log.warning("lost %s: %s", self.config.target, describe(exc))
                continue
            yield Delivery(_message(received), *self._settlers(client, received))

    # -- connection ------------------------------------------------------------------------

    async def _connect(self) -> None:
        import aiomqtt

        client = await connect(
            self.config, clean_session=self.config.clean_session, manual_ack=True
        )
        try:
            for topic in self.config.topics:
                granted = await client.subscribe(topic, self.config.qos)
                if any(_refused(code) for code in granted):  # 0x80: refused
                    raise NotConnected(
                        f"{self.config.target} refused the subscription to '{topic}'",
                        code="mqtt-subscribe",
                    )
        except aiomqtt.MqttError as exc:
            await disconnect(client)
            raise NotConnected(
                f"cannot subscribe on {self.config.target}: {describe(exc)}", code="mqtt-subscribe"
            ) from exc
        except BaseException:
            await disconnect(client)
            raise
        self._client = client

    async def _reconnect(self) -> None:
        """Connect again, waiting longer after each failure, until connected or closed."""
        await self._drop_client()
        config = self.config
        await until_connected(
            self._connect, self._closed, config, log=log, what=config.target, undo=self._drop_client
        )

    async def _drop_client(self) -> None:
        stale, self._client = self._client, None
        if stale is not None:
            await disconnect(stale)

    # -- settling --------------------------------------------------------------------------

    def _settlers(
        self, client: aiomqtt.Client, received: aiomqtt.Message
    ) -> tuple[
        Callable[[Sequence[Message]], Awaitable[None]], Callable[[BaseException], Awaitable[None]]
    ]:
        async def ack(outputs: Sequence[Message]) -> None:
            self._acknowledge(client, received)

        async def nack(error: BaseException) -> None:
            if isinstance(error, MessageError):
                log.warning("dropping a bad message from '%s': %s", received.topic, error)
                self._acknowledge(client, received)
            elif received.qos > 0 and client is self._client:
                log.info("reconnecting so that the broker sends unacknowledged messages again")
                await disconnect(client)

        return ack, nack

    def _acknowledge(self, client: aiomqtt.Client, received: aiomqtt.Message) -> None:
        if received.qos == 0:
            return
        if client is not self._client or not is_connected(client):
            log.info(
                "message %d came on a lost connection; the broker sends it again", received.mid
            )
            return
        client._client.ack(received.mid, received.qos)


def _refused(code: object) -> bool:
    """A SUBACK return code of 0x80 or more (an int in 3.1.1, a ReasonCode in 5)."""
    value = getattr(code, "value", code)
    return isinstance(value, int) and value >= 0x80


def _message(received: aiomqtt.Message) -> Message:
    payload = received.payload
    body = payload if isinstance(payload, bytes) else str(payload).encode()
    headers = {
        "mqtt.topic": received.topic.value,
        "mqtt.qos": str(received.qos),
        "mqtt.retain": "true" if received.retain else "false",
    }
    return Message(body, headers)
