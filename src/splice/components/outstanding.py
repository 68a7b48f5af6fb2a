"""Deliveries a source has handed out but not yet seen settled, so ``close`` can wait."""

from __future__ import annotations

import asyncio
import logging

__all__ = ["Outstanding"]

log = logging.getLogger(__name__)


class Outstanding:
    """Counts deliveries yielded but not settled; ``wait`` returns once none is left."""

    def __init__(self, what_happens_to_the_rest: str = "they will be delivered again") -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._rest = what_happens_to_the_rest

    def add(self) -> None:
        self._count += 1
        self._idle.clear()

    def done(self) -> None:
        self._count = max(0, self._count - 1)
        if self._count == 0:
            self._idle.set()

    async def wait(self, seconds: float) -> None:
        """Wait at most ``seconds`` for every delivery to be settled; log what is left."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            log.warning("%d deliveries unsettled at close; %s", self._count, self._rest)
