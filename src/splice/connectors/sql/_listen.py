"""PostgreSQL LISTEN through asyncpg: each notification becomes a message, or a wake-up.

The listening connection is reopened when it is lost (notifications sent meanwhile are
lost: NOTIFY is at-most-once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from splice.errors import NotConnected
from splice.message import Message

if TYPE_CHECKING:
    from splice.connectors.sql.source import SqlSourceConfig

log = logging.getLogger("splice.connectors.sql")

__all__ = ["Listener"]

_QUEUE_LIMIT = 10_000


class Listener:
    def __init__(self, config: SqlSourceConfig, wake: asyncio.Event) -> None:
        self.config = config
        self.channel = config.listen or ""
        self._wake = wake
        self._queue: asyncio.Queue[str] = asyncio.Queue(_QUEUE_LIMIT)
        self._connection: Any = None

    def _dsn(self) -> tuple[str, str | None]:
        from sqlalchemy.engine import make_url

        url = make_url(self.config.url).set(drivername="postgresql")
        password = self.config.password.get_secret_value() if self.config.password else None
        return url.render_as_string(hide_password=False), password or url.password

    async def open(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        dsn, password = self._dsn()
        try:
            connection = await asyncpg.connect(dsn, password=password, timeout=10)
            await connection.add_listener(self.channel, self._notified)
        except Exception as exc:
            raise NotConnected(f"sql source: cannot LISTEN on '{self.channel}': {exc}") from exc
        self._connection = connection

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self._wake.set()
        if self.config.table is not None:
            return
        try:
            self._queue.put_nowait(payload)
        except asyncio.QueueFull:
            log.warning("sql source: notification on '%s' dropped: queue full", channel)

    async def messages(self, closed: asyncio.Event) -> AsyncIterator[Message]:
        while not closed.is_set():
            try:
                payload = await asyncio.wait_for(self._queue.get(), 0.5)
            except TimeoutError:
                await self._keep_alive()
                continue
            headers = {"sql.channel": self.channel}
            yield Message(body=payload.encode(), headers=headers, content_type="text/plain")

    async def _keep_alive(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            return
        await self.close()
        try:
            await self.open()
        except NotConnected as exc:
            log.warning("%s", exc)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await connection.remove_listener(self.channel, self._notified)
            finally:
                await connection.close()
