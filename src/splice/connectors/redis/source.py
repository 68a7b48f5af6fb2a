"""``redis`` source: read a stream as a member of a consumer group.

Each pull reads up to ``count`` entries with ``XREADGROUP`` (blocking up to ``block``).
An entry is settled like this::

    ack     XACK: removed from the group's pending entries list
    nack    left pending: claimed again (by this or another consumer) after min_idle

At open, the consumer first re-reads its own pending entries (left by a crash of a consumer
with the same name), then new ones. Every ``min_idle``, entries pending longer than
``min_idle`` in any consumer (a dead one, or a nack) are taken over with ``XAUTOCLAIM``.
The group is created (``MKSTREAM``) when missing, starting at ``start``. A server that
cannot be reached at start does not stop the flow: the source connects with backoff
(``reconnect_initial`` up to ``reconnect_max``) when first pulled; a refused password stops
the start.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.outstanding import Outstanding
from splice.components.reconnect import connect_or_wait, until_connected
from splice.components.spec import ComponentSpec, ScalesOut
from splice.connectors.redis._client import (
    RedisConnectionConfig,
    connect,
    log,
    to_message,
    translate,
)
from splice.message import Message
from splice.types import Duration

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["SPEC", "RedisSource", "RedisSourceConfig"]

Entry = tuple[bytes, dict[Any, Any]]


class RedisSourceConfig(RedisConnectionConfig):
    group: str = Field(description="Consumer group (created when missing).")
    consumer: str | None = Field(
        None, description="This consumer's name, stable across restarts (default: host-pid)."
    )
    start: Literal["0", "$"] = Field(
        "0", description="Where a new group starts: `0` the whole stream, `$` new entries."
    )
    count: int = Field(10, ge=1, le=10_000, description="Entries read per XREADGROUP.")
    block: Duration = Field(1.0, gt=0, le=60, description="Longest wait for new entries.")
    min_idle: Duration = Field(
        60.0, gt=0, description="Pending entries idle this long are claimed (XAUTOCLAIM)."
    )
    reconnect_initial: Duration = Field(
        0.5, gt=0, description="First wait before connecting again when none answered at start."
    )
    reconnect_max: Duration = Field(30.0, gt=0, description="Longest wait between attempts.")
    settle_timeout: Duration = Field(
        30.0, ge=0, description="At close, how long to wait for deliveries to be settled."
    )


SPEC = ComponentSpec(
    kind="source",
    name="redis",
    summary="Read a Redis stream as a consumer group member; XACK once delivered.",
    config=RedisSourceConfig,
    example="redis: {stream: orders, group: erp-loader}",
    factory="splice.connectors.redis.source:RedisSource",
    description=(
        "The body is the entry's `body` field; `h:<name>` fields become headers, plus "
        "`redis.stream` and `redis.id`. Unacked entries are claimed again after `min_idle`. "
        "See docs/guides/redis.md."
    ),
    scales_out=ScalesOut(
        "unless a fixed `consumer` name is set", lambda config: config.consumer is None
    ),
)


class RedisSource(Source):
    def __init__(self, config: RedisSourceConfig, context: Context) -> None:
        self.config = config
        self.consumer = config.consumer or f"{socket.gethostname()}-{os.getpid()}"
        self._client: Redis | None = None
        self._closed = asyncio.Event()
        self._outstanding = Outstanding("they stay pending")
        self._backlog = True  # own pending entries first
        self._next_claim = 0.0

    async def open(self) -> None:
        """Connect and create the group. A server that cannot be reached (``redis-connect``)
        does not stop the flow: :meth:`deliveries` connects with backoff. Anything else
        raises."""
        if self._client is not None:
            return
        await connect_or_wait(self._connect, unreachable="redis-connect", log=log)

    async def _connect(self) -> None:
        from redis.exceptions import ResponseError

        client = await connect(self.config)
        try:
            await client.xgroup_create(
                self.config.stream, self.config.group, id=self.config.start, mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                await client.aclose()
                raise translate(exc, f"creating group '{self.config.group}'") from exc
        self._client = client
        self._next_claim = time.monotonic() + self.config.min_idle

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def close(self) -> None:
        self._closed.set()
        client, self._client = self._client, None
        if client is not None:
            await self._outstanding.wait(self.config.settle_timeout)
            await client.aclose()

    async def deliveries(self) -> AsyncIterator[Delivery]:
        what = f"redis for stream '{self.config.stream}'"
        if self._client is None and not await until_connected(
            self._connect, self._closed, self.config, log=log, what=what, undo=self._drop_client
        ):
            return
        client = self._client
        assert client is not None
        while not self._closed.is_set():
            try:
                entries = await self._read(client)
            except Exception as exc:
                if self._closed.is_set():
                    return
                log.warning("redis source: %s", translate(exc, "XREADGROUP"))
                await asyncio.sleep(1.0)
                continue
            for entry_id, fields in entries:
                self._outstanding.add()
                message = to_message(entry_id, fields, self.config.stream)
                yield _Settlement(client, self.config, entry_id, message, self._outstanding)

    async def _read(self, client: Redis) -> Sequence[Entry]:
        if time.monotonic() >= self._next_claim:
            self._next_claim = time.monotonic() + self.config.min_idle
            claimed = await self.claim(client)
            if len(claimed) == self.config.count:  # more may be waiting: claim again soon
                self._next_claim = 0.0
            if claimed:
                return claimed
        if self._backlog:
            own = await self._read_group(client, "0", None)
            if own:
                return own
            self._backlog = False
        return await self._read_group(client, ">", int(self.config.block * 1000))

    async def _read_group(self, client: Redis, start: str, block: int | None) -> list[Entry]:
        config = self.config
        answer: Any = await client.xreadgroup(
            config.group, self.consumer, {config.stream: start}, count=config.count, block=block
        )
        if not answer:
            return []
        entries: list[Entry] = answer[0][1]
        return [(entry_id, fields) for entry_id, fields in entries if fields]

    async def claim(self, client: Redis) -> list[Entry]:
        """Take over up to ``count`` entries pending longer than ``min_idle``."""
        config = self.config
        answer: Any = await client.xautoclaim(
            config.stream,
            config.group,
            self.consumer,
            int(config.min_idle * 1000),
            start_id="0-0",
            count=config.count,
        )
        entries: list[Entry] = answer[1]
        return [(entry_id, fields) for entry_id, fields in entries if fields]


class _Settlement(Delivery):
    def __init__(
        self,
        client: Redis,
        config: RedisSourceConfig,
        entry_id: bytes,
        message: Message,
        outstanding: Outstanding,
    ) -> None:
        super().__init__(message, self._xack, self._leave_pending)
        self._client = client
        self._config = config
        self._entry_id = entry_id
        self._outstanding = outstanding

    async def _xack(self, outputs: Sequence[Message]) -> None:
        try:
            await self._client.xack(self._config.stream, self._config.group, self._entry_id)
        finally:
            self._outstanding.done()

    async def _leave_pending(self, error: BaseException) -> None:
        self._outstanding.done()
