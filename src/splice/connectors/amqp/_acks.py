"""Settling one channel's deliveries: acks batched with ``multiple=True``, rejects at once.

Delivery tags on a channel count up from 1. An ack is not sent when it is asked for: it is
noted, and at the end of the event-loop turn one ``basic.ack(multiple=true)`` settles the
longest run of settled tags from the lowest unsettled one, so many confirmations finishing
together cost one frame::

    tags      1  2  3  4  5  6  7
    settled   a  a  r  a  .  a  a        a: ack asked, r: rejected, .: still in flight
    flush  -> basic.ack(4, multiple=true)   covers 1, 2, 4 (3 is gone already)
              6 and 7 wait for 5, unless more than ``hold`` acks wait behind a gap:
              then they are acked one by one, so a slow message cannot stall the queue.

A reject (``basic.reject``) is written at once, before any later multiple ack can cover
its tag. ``multiple=true`` only ever names a tag this window has not settled yet (the
broker refuses an unknown tag) and only covers tags whose ack was asked for.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiormq.abc import AbstractChannel

__all__ = ["AckWindow"]

log = logging.getLogger(__name__)


class AckWindow:
    """The unsettled deliveries of one channel (``first`` is the lowest tag it will see)."""

    def __init__(self, channel: AbstractChannel, *, hold: int, first: int = 1) -> None:
        self.channel = channel
        self.hold = max(1, hold)
        self._low = first
        """The lowest tag not settled yet: every tag below it is acked or rejected."""
        self._acked: set[int] = set()
        """Tags whose ack was asked for and not sent yet."""
        self._gone: set[int] = set()
        """Tags at or above ``_low`` the broker already settled (rejected, or acked alone)."""
        self._flusher: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Acks asked for and not sent yet."""
        return len(self._acked)

    def ack(self, tag: int) -> None:
        """Note an ack; it is sent when this event-loop turn has run."""
        self._acked.add(tag)
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def reject(self, tag: int, *, requeue: bool) -> None:
        """Reject one delivery now (queued before any later multiple ack can cover it)."""
        await self.channel.basic_reject(tag, requeue=requeue, wait=False)
        self._gone.add(tag)

    async def close(self) -> None:
        """Send every ack asked for, before the channel closes."""
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        if self.channel.is_closed:
            if self._acked:
                log.info("%d acks not sent: the connection is gone; they come back", self.pending)
            return
        await self._send(*self._take(everything=True))

    async def _flush(self) -> None:
        """One flush at a time, so acks reach the broker in tag order."""
        try:
            while True:
                top, alone = self._take()
                if top is None and not alone:
                    return
                await self._send(top, alone)
        finally:
            self._flusher = None

    def _take(self, *, everything: bool = False) -> tuple[int | None, list[int]]:
        """The highest asked tag of the settled run from ``_low``; and the asked tags past
        it (to be acked one by one) when more than ``hold`` wait there, or ``everything``."""
        top = None
        while self._low in self._acked or self._low in self._gone:
            if self._low in self._acked:
                self._acked.discard(self._low)
                top = self._low
            else:
                self._gone.discard(self._low)
            self._low += 1
        alone: list[int] = []
        if self._acked and (everything or len(self._acked) > self.hold):
            alone = sorted(self._acked)
            self._acked.clear()
            self._gone.update(alone)
        return top, alone

    async def _send(self, top: int | None, alone: list[int]) -> None:
        if top is not None:
            await self._write(top, multiple=True)
        for tag in alone:
            await self._write(tag, multiple=False)

    async def _write(self, tag: int, *, multiple: bool) -> None:
        if self.channel.is_closed:
            log.info("cannot ack message %d: its connection is gone; it comes back", tag)
            return
        try:
            # wait=False: queued in order behind earlier frames; no wait for the socket
            await self.channel.basic_ack(tag, multiple=multiple, wait=False)
        except Exception as exc:
            log.warning("cannot ack message %d: %s", tag, exc)
