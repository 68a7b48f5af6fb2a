"""Apache Kafka: a consumer-group source that commits offsets only once the flow delivered
the messages, and an idempotent producer sink that waits for the brokers' acks.
See ``docs/guides/kafka.md``.

aiokafka is imported only when a connection is opened, so importing this package is cheap.
"""

from __future__ import annotations

from splice.connectors.kafka.sink import KafkaSink, KafkaSinkConfig
from splice.connectors.kafka.source import KafkaSource, KafkaSourceConfig

__all__ = ["KafkaSink", "KafkaSinkConfig", "KafkaSource", "KafkaSourceConfig"]
