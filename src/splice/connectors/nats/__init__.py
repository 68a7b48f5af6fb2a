"""NATS and JetStream: a source (subscription or durable pull consumer) and a sink
(publish with flush, request-reply or JetStream PubAck). See ``docs/guides/nats.md``."""

from __future__ import annotations

from splice.connectors.nats._connection import NatsStream
from splice.connectors.nats.sink import NatsSink, NatsSinkConfig
from splice.connectors.nats.source import NatsSource, NatsSourceConfig

__all__ = ["NatsSink", "NatsSinkConfig", "NatsSource", "NatsSourceConfig", "NatsStream"]
