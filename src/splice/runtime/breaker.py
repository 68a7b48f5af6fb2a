"""Circuit breakers, one per sink endpoint, shared by every flow that uses the endpoint.

::

               N transient failures within `window`
    CLOSED ─────────────────────────────────────────▶ OPEN
      ▲                                                 │ `reset_after` passed
      │ a probe succeeds                                ▼
      └──────────────────────────────────────────── HALF_OPEN ──▶ OPEN (a probe fails)

While a breaker is open, callers **wait** in :meth:`CircuitBreaker.wait_closed` (this is
backpressure: the flow slows down and its source stops being pulled) instead of calling
the endpoint, burning retries and dead-lettering. Half-open, ``half_open_probes`` calls
go through at a time. Only transient failures count; a call that ends in any other way
(a permanent error, a bug, a cancellation) just gives its probe slot back.

Usage, around one call::

    await breaker.wait_closed()
    try:
        result = await call()
    except Exception as error:
        breaker.record_failure() if transient(error) else breaker.release()
        raise
    breaker.record_success()
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from splice.runtime.policies import BreakerPolicy

__all__ = ["BreakerState", "Breakers", "CircuitBreaker", "Clock", "Sleep"]

Clock = Callable[[], float]
"""Monotonic seconds; ``time.monotonic`` unless a test injects its own."""

Sleep = Callable[[float], Awaitable[None]]
"""Waits the given seconds; ``asyncio.sleep`` unless a test injects its own."""


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """The breaker of one endpoint (a URL, an exchange, a queue)."""

    def __init__(
        self,
        endpoint: str,
        policy: BreakerPolicy,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.endpoint = endpoint
        self.policy = policy
        self._clock = clock
        self._sleep = sleep
        self.state = BreakerState.CLOSED
        self._failures: deque[float] = deque()
        self.opened_at: float | None = None
        self._probes_out = 0
        self._changed = asyncio.Event()

    @property
    def failures(self) -> int:
        """Transient failures within the window; while open or half-open, those that opened it."""
        self._forget_old_failures()
        return len(self._failures)

    @property
    def next_probe_at(self) -> float | None:
        if self.opened_at is None:
            return None
        return self.opened_at + self.policy.reset_after

    def try_enter(self) -> bool:
        """Let one call through if the state allows; half-open, this takes a probe slot."""
        if self.state is BreakerState.CLOSED:  # the hot path: nothing to check
            return True
        if self.state is BreakerState.OPEN and self._clock() >= (self.next_probe_at or 0.0):
            self._transition(BreakerState.HALF_OPEN)
        if self.state is BreakerState.HALF_OPEN and self._probes_out < self.policy.half_open_probes:
            self._probes_out += 1
            return True
        return False

    async def wait_closed(self) -> float:
        """Wait until a call may go through (closed, or a free probe slot); return the wait.

        A caller on a hot path tries :meth:`try_enter` first and awaits this only when that
        answered False (a closed breaker then costs no coroutine step).
        """
        started = self._clock()
        while not self.try_enter():
            await self._wait_for_change()
        return self._clock() - started

    def record_success(self) -> None:
        """The call went through: a successful probe closes the breaker."""
        if self.state is BreakerState.HALF_OPEN:
            self._failures.clear()
            self._transition(BreakerState.CLOSED)

    def record_failure(self) -> None:
        """The call failed transiently: counts toward opening; a failed probe re-opens."""
        now = self._clock()
        if self.state is BreakerState.HALF_OPEN:
            self._open(now)
            return
        self._failures.append(now)
        self._forget_old_failures()
        if self.state is BreakerState.CLOSED and len(self._failures) >= self.policy.failures:
            self._open(now)

    def release(self) -> None:
        """The call ended without telling anything about the endpoint: free its probe slot."""
        if self.state is BreakerState.HALF_OPEN and self._probes_out > 0:
            self._probes_out -= 1
            self._notify()

    def snapshot(self) -> dict[str, Any]:
        """The state as ``splice status`` shows it (times on this breaker's clock)."""
        return {
            "endpoint": self.endpoint,
            "state": self.state.value,
            "failures": self.failures,
            "opened_at": self.opened_at,
            "next_probe_at": self.next_probe_at,
        }

    def _open(self, now: float) -> None:
        self.opened_at = now
        self._transition(BreakerState.OPEN)

    def _transition(self, state: BreakerState) -> None:
        self.state = state
        self._probes_out = 0
        if state is BreakerState.CLOSED:
            self.opened_at = None
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _forget_old_failures(self) -> None:
        if self.state is not BreakerState.CLOSED:
            return
        horizon = self._clock() - self.policy.window
        while self._failures and self._failures[0] <= horizon:
            self._failures.popleft()

    async def _wait_for_change(self) -> None:
        """Until the next probe is due or the state changes, whichever comes first."""
        waiters: set[asyncio.Future[object]] = {asyncio.ensure_future(self._changed.wait())}
        if self.state is BreakerState.OPEN:
            delay = max(0.0, (self.next_probe_at or 0.0) - self._clock())
            waiters.add(asyncio.ensure_future(self._sleep(delay)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


class Breakers:
    """The registry of breakers by endpoint, one per runtime, shared by every flow.

    The first policy registered for an endpoint is the one its breaker keeps.
    """

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._by_endpoint: dict[str, CircuitBreaker] = {}

    def get(self, endpoint: str, policy: BreakerPolicy) -> CircuitBreaker:
        breaker = self._by_endpoint.get(endpoint)
        if breaker is None:
            breaker = CircuitBreaker(endpoint, policy, clock=self._clock, sleep=self._sleep)
            self._by_endpoint[endpoint] = breaker
        return breaker

    def __contains__(self, endpoint: object) -> bool:
        return endpoint in self._by_endpoint

    def snapshots(self) -> list[dict[str, Any]]:
        return [breaker.snapshot() for breaker in self._by_endpoint.values()]
