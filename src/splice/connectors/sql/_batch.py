"""Group commit: messages sent while a transaction is being written share the next one.

A flow with many messages in flight then pays for one transaction (BEGIN, the statements,
COMMIT) per batch instead of one per message; a lone message is written at once::

    send(a) ──▶ transaction [a] ─────────────▶ commit: a returns
    send(b), send(c), send(d) wait ──────────▶ transaction [b, c, d] ──▶ commit: b, c, d return

Each ``send`` still returns only once its rows are committed, and a message's rows are never
split between transactions. When a batch of several messages fails, each message is written
again in a transaction of its own, so only the messages that cannot be written fail, each
with its own error. A message whose caller stopped waiting (a timeout) before its batch was
taken is left out.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["GroupCommit"]

Row = dict[str, Any]
Write = Callable[[list[Row]], Awaitable[None]]
"""Writes rows in one transaction; raises (a SpliceError) when it did not commit."""


class GroupCommit:
    """Batches concurrent ``submit`` calls into transactions of at most ``max_rows`` rows."""

    def __init__(self, write: Write, *, max_rows: int) -> None:
        self._write = write
        self.max_rows = max_rows
        self._waiting: deque[tuple[list[Row], asyncio.Future[None]]] = deque()
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, rows: list[Row]) -> None:
        """Return once ``rows`` are committed (together, in one transaction)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._waiting.append((rows, done))
        if self._writer is None:
            self._writer = loop.create_task(self._run())
        await done

    async def drain(self) -> None:
        """Wait for the transactions already asked for (before closing)."""
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _run(self) -> None:
        try:
            while self._waiting:
                batch = self._take()
                if batch:
                    await self._commit(batch)
        finally:
            self._writer = None

    def _take(self) -> list[tuple[list[Row], asyncio.Future[None]]]:
        batch: list[tuple[list[Row], asyncio.Future[None]]] = []
        count = 0
        while self._waiting and (not batch or count + len(self._waiting[0][0]) <= self.max_rows):
            rows, done = self._waiting.popleft()
            if not done.done():
                batch.append((rows, done))
                count += len(rows)
        return batch

    async def _commit(self, batch: list[tuple[list[Row], asyncio.Future[None]]]) -> None:
        try:
            await self._write([row for rows, _ in batch for row in rows])
        except asyncio.CancelledError:
            for _, done in batch:
                done.cancel()
            raise
        except Exception as error:
            if len(batch) == 1:
                _settle(batch[0][1], error)
                return
            for entry in batch:  # find the messages that cannot be written
                await self._commit([entry])
        else:
            for _, done in batch:
                _settle(done, None)


def _settle(done: asyncio.Future[None], error: Exception | None) -> None:
    if done.done():  # the caller stopped waiting
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
