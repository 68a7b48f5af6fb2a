"""Connecting a source again and again until it works or the source is closed.

A source whose broker is down (at start, or after a lost connection) calls
:func:`until_connected` with its own connect step: each failure is logged with the wait that
follows, waits double from ``initial`` up to ``maximum`` with jitter (half to all of the
wait, so that many sources do not retry together), and closing the source ends a wait at
once. A :class:`~splice.errors.ConnectorError` of any kind is retried: an endpoint that is
down comes back, and settings it refused mid-run (a login, a topology) may be mended while
the engine runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

from splice.errors import ConnectorError

__all__ = ["until_connected"]


async def until_connected(
    connect: Callable[[], Awaitable[None]],
    stop: asyncio.Event,
    *,
    initial: float,
    maximum: float,
    log: logging.Logger,
    undo: Callable[[], Awaitable[None]] | None = None,
) -> bool:
    """Run ``connect`` until it returns (True) or ``stop`` is set (False). When ``stop`` was
    set while a ``connect`` that then succeeded ran, the source was closed meanwhile and
    will not close what it opened: ``undo`` does, and the answer is False."""
    wait = initial
    while not stop.is_set():
        try:
            await connect()
        except ConnectorError as exc:
            log.warning("%s; retrying in %.1fs", exc, wait)
        else:
            if not stop.is_set():
                return True
            if undo is not None:
                await undo()
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), random.uniform(wait / 2, wait))
        wait = min(wait * 2, maximum)
    return False
