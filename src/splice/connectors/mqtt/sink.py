"""``mqtt`` sink: publish each message to a topic and wait for the broker.

``send`` returns when the broker confirmed the publish: PUBACK for QoS 1, PUBCOMP for
QoS 2; for QoS 0 when the message was handed to the socket (MQTT gives no confirmation).
The topic is static (``topic``) or taken from a message header (``topic_header``, falling
back to ``topic``); headers ``mqtt.qos`` and ``mqtt.retain`` override the configured ones.

A lost connection, or a publish not confirmed within ``publish_timeout``, is a
TransientError; the next ``send`` connects again (the runtime's retry policy supplies the
backoff). A publish whose confirmation was lost may have reached subscribers: retrying it
gives at-least-once delivery.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import orjson
from pydantic import Field, field_validator, model_validator

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentSpec
from splice.connectors.mqtt._connection import (
    MqttConnectionConfig,
    QoS,
    connect,
    describe,
    disconnect,
    disconnected,
    is_connected,
)
from splice.errors import MessageError, NotConnected, TransientError
from splice.message import Message
from splice.types import Duration

if TYPE_CHECKING:
    import aiomqtt

__all__ = ["SPEC", "MqttSink", "MqttSinkConfig"]

log = logging.getLogger(__name__)


class MqttSinkConfig(MqttConnectionConfig):
    topic: str | None = Field(None, description="Topic to publish to (no wildcards).")
    topic_header: str | None = Field(
        None, description="Take the topic from this message header (e.g. `mqtt.topic`)."
    )
    qos: QoS = Field(1, description="0: at most once, 1: at least once, 2: exactly once.")
    retain: bool = Field(
        False, description="The broker keeps the last message for new subscribers."
    )
    publish_timeout: Duration = Field(30.0, gt=0, description="Longest wait for a confirmation.")

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None:
            _check_topic(value)
        return value

    @model_validator(mode="after")
    def _some_topic(self) -> MqttSinkConfig:
        if self.topic is None and self.topic_header is None:
            raise ValueError("give a topic, a topic_header, or both")
        return self


SPEC = ComponentSpec(
    kind="sink",
    name="mqtt",
    summary="Publish each message to an MQTT topic with QoS 0, 1 or 2, optionally retained.",
    config=MqttSinkConfig,
    example="mqtt: {topic: plant/line-1/orders, qos: 1}",
    factory="splice.connectors.mqtt.sink:MqttSink",
    shorthand="topic",
    description=(
        "`send` returns once the broker confirmed (PUBACK for QoS 1, PUBCOMP for QoS 2). "
        "The topic comes from `topic` or from the header named by `topic_header`; headers "
        "`mqtt.qos` and `mqtt.retain` override the configured values for one message."
    ),
)


def _check_topic(topic: str) -> None:
    if not topic or "+" in topic or "#" in topic or "\0" in topic:
        raise ValueError(f"'{topic}' is not a topic to publish to (empty, wildcard or NUL)")


class MqttSink(Sink):
    def __init__(self, config: MqttSinkConfig, context: Context) -> None:
        self.config = config
        self._client: aiomqtt.Client | None = None
        self._connecting = asyncio.Lock()
        self._closed = False

    async def open(self) -> None:
        self._closed = False
        await self._ensure_client()

    async def close(self) -> None:
        self._closed = True
        client, self._client = self._client, None
        if client is not None:
            await disconnect(client)

    async def send(self, message: Message) -> None:
        topic, qos, retain = self._addressing(message)
        payload = self._encode(message)
        client = await self._ensure_client()
        await self._publish(client, topic, payload, qos, retain)

    async def _publish(
        self, client: aiomqtt.Client, topic: str, payload: bytes, qos: int, retain: bool
    ) -> None:
        import aiomqtt

        lost = disconnected(client)
        publishing = asyncio.ensure_future(
            client.publish(topic, payload, qos, retain, timeout=self.config.publish_timeout)
        )
        try:
            await asyncio.wait((publishing, lost), return_when=asyncio.FIRST_COMPLETED)
            if not publishing.done():
                raise TransientError(
                    f"lost the connection to {self.config.target} while publishing to '{topic}'",
                    code="mqtt-connection",
                )
            publishing.result()
        except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
            raise TransientError(
                f"publish to '{topic}' on {self.config.target} failed: {describe(exc)}",
                code="mqtt-publish",
            ) from exc
        finally:
            if not publishing.done():
                publishing.cancel()
                await asyncio.gather(publishing, return_exceptions=True)

    def _addressing(self, message: Message) -> tuple[str, int, bool]:
        topic = self.config.topic
        if self.config.topic_header is not None:
            topic = message.headers.get(self.config.topic_header, topic)
        if topic is None:
            raise MessageError(
                f"the message has no '{self.config.topic_header}' header to take the topic from",
                field=f"headers[{self.config.topic_header}]",
            )
        try:
            _check_topic(topic)
            qos = int(message.headers.get("mqtt.qos", self.config.qos))
        except ValueError as exc:
            raise MessageError(str(exc), code="mqtt-address") from exc
        if qos not in (0, 1, 2):
            raise MessageError(f"mqtt.qos must be 0, 1 or 2, not {qos}", code="mqtt-address")
        retain_header = message.headers.get("mqtt.retain")
        retain = self.config.retain if retain_header is None else retain_header == "true"
        return topic, qos, retain

    def _encode(self, message: Message) -> bytes:
        if message.is_encoded or isinstance(message.body, str):
            return message.body_bytes()
        try:
            return orjson.dumps(message.body)
        except TypeError as exc:
            raise MessageError(f"the body cannot be sent as JSON: {exc}") from exc

    async def _ensure_client(self) -> aiomqtt.Client:
        client = self._client
        if client is not None and is_connected(client):
            return client
        async with self._connecting:
            if self._closed:
                raise NotConnected(f"mqtt sink to {self.config.target} is closed")
            if self._client is None or not is_connected(self._client):
                stale, self._client = self._client, None
                if stale is not None:
                    await disconnect(stale)
                self._client = await connect(self.config)
            return self._client
