"""Connecting a source again and again until it works or the source is closed.

A source whose broker is down at start lets its flow start anyway (:func:`connect_or_wait`
in ``open``), then, like a source that lost its connection, calls :func:`until_connected`
with its own connect step: each failure is logged with the wait that follows, waits double
from the config's ``reconnect_initial`` up to its ``reconnect_max`` with jitter (half to all
of the wait, so that many sources do not retry together), and closing the source ends a
wait at once. A :class:`~splice.errors.ConnectorError` of any kind is retried: an endpoint that is
down comes back, and settings it refused mid-run (a login, a topology) may be mended while
the engine runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Protocol

from splice.errors import ConnectorError, NotConnected

__all__ = ["Backoff", "connect_or_wait", "until_connected"]


class Backoff(Protocol):
    """A source config's waits between connection attempts, in seconds."""

    @property
    def reconnect_initial(self) -> float: ...

    @property
    def reconnect_max(self) -> float: ...


async def connect_or_wait(
    connect: Callable[[], Awaitable[None]], *, unreachable: str, log: logging.Logger
) -> None:
    """``connect`` at open; when the endpoint cannot be reached (:class:`NotConnected`
    with the code ``unreachable``) log it and return, the flow starting without it: the
    source then connects with :func:`until_connected`. Anything else raises."""
    try:
        await connect()
    except NotConnected as exc:
        if exc.code != unreachable:
            raise
        log.warning("%s; the flow starts and receives once it is reached", exc)


async def until_connected(
    connect: Callable[[], Awaitable[None]],
    stop: asyncio.Event,
    backoff: Backoff,
    *,
    log: logging.Logger,
    what: str,
    undo: Callable[[], Awaitable[None]] | None = None,
) -> bool:
    """Run ``connect`` until it returns (True, logged as connected to ``what``) or ``stop``
    is set (False). When ``stop`` was set while a ``connect`` that then succeeded ran, the
    source was closed meanwhile and will not close what it opened: ``undo`` does, and the
    answer is False."""
    wait = backoff.reconnect_initial
    while not stop.is_set():
        try:
            await connect()
        except ConnectorError as exc:
            log.warning("%s; retrying in %.1fs", exc, wait)
        else:
            if not stop.is_set():
                log.info("connected to %s", what)
                return True
            if undo is not None:
                await undo()
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), random.uniform(wait / 2, wait))
        wait = min(wait * 2, backoff.reconnect_max)
    return False
