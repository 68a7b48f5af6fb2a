"""Redis Streams: a consumer-group source (XREADGROUP, XACK, XAUTOCLAIM) and an XADD sink.
See ``docs/guides/redis.md``."""

from __future__ import annotations

from splice.connectors.redis.sink import RedisSink, RedisSinkConfig
from splice.connectors.redis.source import RedisSource, RedisSourceConfig

__all__ = ["RedisSink", "RedisSinkConfig", "RedisSource", "RedisSourceConfig"]
