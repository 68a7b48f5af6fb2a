"""Fixtures of the Redis tests: a unique stream, deleted afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis_harness import URL, require
from ulid import ULID


@pytest.fixture
async def stream() -> AsyncIterator[str]:
    require("redis")
    from redis.asyncio import Redis

    name = f"splice-test-{ULID()}"
    yield name
    client = Redis.from_url(URL)
    await client.delete(name)
    await client.aclose()
