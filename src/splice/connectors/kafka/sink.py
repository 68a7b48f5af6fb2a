"""``kafka`` sink: produce each message as a record and wait for the brokers' ack.

The producer is idempotent by default (``enable_idempotence``, ``acks: all``): the retries
aiokafka makes itself (a lost ack, a leader change) never write a record twice nor out of
order. A send the *runtime* retries after ``send`` failed is a new produce request, so it
may be stored twice: at-least-once, as with every broker.

Where a record goes::

    topic       the `topic` option; or, with `topic_header`, that header's value when it
                names a topic of `allow_topics` (another value is a bad message)
    key         none; the `key_header` header; or the `key` JSONata expression
    partition   the `partition` option; else Kafka's partitioner (by key; none: spread)

How ``send`` outcomes are classified (see ``_connection.py``): broker unreachable is
``NotConnected``; a timeout or an error Kafka marks retriable is ``TransientError``; a
record too large, an invalid topic, an authorization failure is ``PermanentError``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentSpec
from splice.connectors.kafka._connection import (
    KafkaConnectionConfig,
    aiokafka,
    client_options,
    start,
    translate,
)
from splice.connectors.kafka._records import key_function, record_headers, record_value
from splice.errors import MappingError, MessageError, NotConnected
from splice.mapping import compile_mapping
from splice.message import Message
from splice.types import Duration

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped, unused-ignore]

__all__ = ["SPEC", "KafkaSink", "KafkaSinkConfig"]

log = logging.getLogger("splice.connectors.kafka")

_TOPIC = r"^[A-Za-z0-9._-]{1,249}$"


class KafkaSinkConfig(KafkaConnectionConfig):
    topic: str = Field(description="Topic to produce to.", pattern=_TOPIC)
    topic_header: str | None = Field(
        None, description="Take the topic from this header, when it names one of `allow_topics`."
    )
    allow_topics: list[str] = Field(
        default_factory=list, description="Topics `topic_header` may choose (required with it)."
    )
    key: str | None = Field(
        None, description="JSONata expression giving the record key (decoded body, `$headers`)."
    )
    key_header: str | None = Field(None, description="Take the record key from this header.")
    partition: int | None = Field(None, ge=0, description="Fixed partition (default: by key).")
    headers: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Glob patterns of the message headers sent as Kafka headers "
        "(`[]`: none; `kafka.*` and secret-named headers are never sent).",
    )
    idempotent: bool = Field(True, description="Idempotent producer: no duplicate on retries.")
    acks: Literal["all", "leader"] = Field(
        "all", description="`all`: every in-sync replica has it; `leader`: the leader has it."
    )
    compression: Literal["none", "gzip"] = Field("none", description="Batch compression.")
    linger: Duration = Field(
        0.005, ge=0, description="Wait this long to batch records sent together."
    )
    max_request_size: int = Field(
        1048576, ge=1024, description="Largest produce request in bytes (a larger record fails)."
    )

    @field_validator("allow_topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        import re

        for topic in value:
            if not re.match(_TOPIC, topic):
                raise ValueError(f"'{topic}' is not a valid topic name")
        return value

    @field_validator("key")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_mapping(value)
            except MappingError as exc:
                raise ValueError(f"key is not a valid JSONata expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSinkConfig:
        if self.topic_header is not None and not self.allow_topics:
            raise ValueError("topic_header needs allow_topics: the topics a header may choose")
        if self.allow_topics and self.topic_header is None:
            raise ValueError("allow_topics is only used with topic_header")
        if self.key is not None and self.key_header is not None:
            raise ValueError("give key or key_header, not both")
        if self.idempotent and self.acks != "all":
            raise ValueError("an idempotent producer needs acks: all (or idempotent: false)")
        return self


SPEC = ComponentSpec(
    kind="sink",
    name="kafka",
    summary="Produce each message to a Kafka topic with an idempotent producer; wait for acks.",
    config=KafkaSinkConfig,
    example="kafka: {brokers: [kafka-1:9092], topic: orders.created, key: orderId}",
    factory="splice.connectors.kafka.sink:KafkaSink",
    shorthand="topic",
    description=(
        "`send` returns once the brokers acknowledged the record (`acks: all` by default). "
        "The key comes from a JSONata expression or a header; the topic from the config, or "
        "from a header limited to `allow_topics`. Message headers become Kafka headers. "
        "Unreachable brokers and retriable broker errors are transient; a record too "
        "large or a refused authorization is permanent. See docs/guides/kafka.md."
    ),
)


class KafkaSink(Sink):
    def __init__(self, config: KafkaSinkConfig, context: Context) -> None:
        self.config = config
        self._context = context
        self._producer: AIOKafkaProducer | None = None
        self._key = key_function(config.key, config.key_header)
        self._allowed = frozenset(config.allow_topics)

    async def open(self) -> None:
        if self._producer is not None:
            return
        config = self.config
        producer = aiokafka().AIOKafkaProducer(
            **client_options(config, self._context),
            enable_idempotence=config.idempotent,
            acks="all" if config.acks == "all" else 1,
            compression_type=None if config.compression == "none" else config.compression,
            linger_ms=int(config.linger * 1000),
            max_request_size=config.max_request_size,
        )
        await start(producer, config, f"kafka sink to '{config.topic}'")
        self._producer = producer

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            await producer.stop()  # flushes what is still batched
        except Exception as exc:  # the sends it could not flush failed on their own
            log.warning("kafka sink to '%s': stopping the producer: %s", self.config.topic, exc)

    async def send(self, message: Message) -> None:
        producer = self._producer
        topic = self.topic_for(message)
        if producer is None:
            raise NotConnected(f"kafka sink to '{topic}' is not open")
        value, content_type = record_value(message)
        key = self._key(message)
        headers = record_headers(message, self.config.headers, content_type)
        try:
            await producer.send_and_wait(
                topic, value, key=key, partition=self.config.partition, headers=headers
            )
        except Exception as exc:
            raise translate(exc, f"produce to '{topic}'") from exc

    def topic_for(self, message: Message) -> str:
        """The record's topic: the header's when it names an allowed topic (see module)."""
        name = self.config.topic_header
        if name is None or name not in message.headers:
            return self.config.topic
        topic = message.headers[name]
        if topic not in self._allowed:
            raise MessageError(
                f"header '{name}' names topic '{topic}', which is not in allow_topics",
                field=name,
            )
        return topic
