"""``redis`` sink: append each message to a stream with ``XADD``.

``send`` returns once Redis answered the new entry id (the entry is in the server's memory;
its durability is the server's persistence setting). With ``maxlen`` the stream is trimmed
on each add, approximately (``~``, cheap) unless ``exact_trim``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentSpec
from splice.connectors.redis._client import RedisConnectionConfig, connect, to_fields, translate
from splice.errors import NotConnected
from splice.message import Message

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["SPEC", "RedisSink", "RedisSinkConfig"]


class RedisSinkConfig(RedisConnectionConfig):
    maxlen: int | None = Field(None, ge=1, description="Trim the stream to about this length.")
    exact_trim: bool = Field(False, description="Trim to exactly `maxlen` (slower).")


SPEC = ComponentSpec(
    kind="sink",
    name="redis",
    summary="Append each message to a Redis stream (XADD).",
    config=RedisSinkConfig,
    example="redis: {stream: orders, maxlen: 100000}",
    factory="splice.connectors.redis.sink:RedisSink",
    shorthand="stream",
    description=(
        "The body goes to the `body` field, each header to a field `h:<name>`. "
        "See docs/guides/redis.md."
    ),
)


class RedisSink(Sink):
    def __init__(self, config: RedisSinkConfig, context: Context) -> None:
        self.config = config
        self._client: Redis | None = None
        self.last_id: str | None = None
        """The entry id of the last XADD."""

    async def open(self) -> None:
        if self._client is None:
            self._client = await connect(self.config)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def send(self, message: Message) -> None:
        if self._client is None:
            raise NotConnected(f"redis sink to '{self.config.stream}' is not open")
        try:
            entry_id = await self._client.xadd(
                self.config.stream,
                to_fields(message),  # type: ignore[arg-type]
                maxlen=self.config.maxlen,
                approximate=not self.config.exact_trim,
            )
        except Exception as exc:
            raise translate(exc, f"XADD to '{self.config.stream}'") from exc
        self.last_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
