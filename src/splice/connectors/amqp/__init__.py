"""AMQP 0-9-1 (RabbitMQ): a source that consumes a queue with manual acks and prefetch, and
a sink that publishes with publisher confirms. See ``docs/guides/amqp.md``.

aiormq is imported only when a connection is opened, so importing this package is cheap.
"""

from __future__ import annotations

from splice.connectors.amqp.sink import AmqpSink, AmqpSinkConfig
from splice.connectors.amqp.source import AmqpSource, AmqpSourceConfig

__all__ = ["AmqpSink", "AmqpSinkConfig", "AmqpSource", "AmqpSourceConfig"]
