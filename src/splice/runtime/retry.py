"""Retries, timeouts and the circuit breaker around a sink, as one wrapper.

The runtime wraps every sink of a flow in a :class:`RetryingSink` built from the sink's
merged ``on_error`` policy; connectors never retry by themselves. One ``send`` is::

    repeat (tenacity.AsyncRetrying):
        wait for the endpoint's breaker to let a call through   # not an attempt
        message.attempts += 1
        sink.send(message) within `timeout`                     # CallTimedOut is transient
    until it succeeds, the error is permanent, `attempts` calls were made,
    or the next wait would end past `max_elapsed` (breaker waits not counted)

Waits grow exponentially (``initial * 2**n``, capped at ``max``) with full jitter (a random
time in ``[0, wait]``); an error's ``retry_after`` (HTTP ``Retry-After``) is waited instead
when it is longer. The error that ends the loop is raised as it is, carrying the history
of every attempt in ``error.attempts`` (see :func:`attempts_of`) for the dead-letter entry.

A sink whose ``open`` raises :class:`~splice.errors.NotConnected` at start (its broker or
server is down) does not stop the flow: the flow starts, a warning says so, and each send
opens the sink first, inside the attempt, until one open succeeds; a failed open is a
failed attempt (transient), retried and dead-lettered as the policy says like any other.

The hot path: the first attempt is made directly (breaker, timeout, call), without
building the tenacity loop; only a failure that the policy retries enters the loop, whose
first attempt then replays that failure instead of calling again. The loop therefore
counts, waits, stops and records exactly as if it had made the first call itself. The
breaker is only awaited when :meth:`~CircuitBreaker.try_enter` refuses, and the timeout
is kept by :class:`~splice.runtime.timeouts.CallDeadlines` (one timer for all the calls
through this sink, no coroutine).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_fixed,
    wait_random,
    wait_random_exponential,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from splice.components.interfaces import Sink
from splice.errors import NotConnected, SpliceError
from splice.message import Message
from splice.runtime.breaker import BreakerState, CircuitBreaker, Clock, Sleep
from splice.runtime.policies import OnError, RetryPolicy
from splice.runtime.timeouts import CallDeadlines

log = logging.getLogger(__name__)

__all__ = ["Attempt", "RetryingSink", "attempts_of", "backoff"]


class Attempt(TypedDict):
    """One failed call, as recorded in ``error.attempts`` and the dead-letter entry."""

    attempt: int
    """1 for the first call of this ``send``, 2 for the first retry, ..."""
    at: float
    """Wall-clock time (epoch seconds) the call failed."""
    error: str
    code: str
    """The error's stable code, or its class name for an unknown exception."""
    transient: bool
    wait: float | None
    """Seconds waited before the next attempt; ``None`` when there was none."""


def attempts_of(error: BaseException) -> list[Attempt]:
    """The attempt history a :class:`RetryingSink` attached to ``error`` (empty if none)."""
    history: list[Attempt] = getattr(error, "attempts", [])
    return history


def backoff(policy: RetryPolicy) -> wait_base:
    """The tenacity wait strategy for ``policy`` (before ``retry_after`` is considered)."""
    cap = policy.max
    if policy.backoff == "fixed":
        step = min(policy.initial, cap)
        return wait_random(0, step) if policy.jitter == "full" else wait_fixed(step)
    if policy.jitter == "full":
        return wait_random_exponential(multiplier=policy.initial, max=cap)
    return wait_exponential(multiplier=policy.initial, max=cap)


class _HonourRetryAfter(wait_base):
    """The backoff wait, or the failed call's ``retry_after`` when that is longer."""

    def __init__(self, base: wait_base) -> None:
        self.base = base

    def __call__(self, retry_state: RetryCallState) -> float:
        computed = float(self.base(retry_state))
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after > computed:
            return float(retry_after)
        return computed


@dataclass
class _Call:
    """The state of one ``send``: when it started, breaker time, the attempts so far."""

    started: float
    breaker_wait: float = 0.0
    history: list[Attempt] = field(default_factory=list)

    def note_wait(self, retry_state: RetryCallState) -> None:
        if self.history and retry_state.next_action is not None:
            self.history[-1]["wait"] = retry_state.next_action.sleep


class _OutOfTime(stop_base):
    """Stop once the next wait would end past ``max_elapsed`` (breaker waits excluded)."""

    def __init__(self, call: _Call, max_elapsed: float, clock: Clock) -> None:
        self.call = call
        self.max_elapsed = max_elapsed
        self.clock = clock

    def __call__(self, retry_state: RetryCallState) -> bool:
        elapsed = self.clock() - self.call.started - self.call.breaker_wait
        # tenacity >= 8.3 computes the wait before asking stop; 8.2 only checks elapsed
        upcoming: float = getattr(retry_state, "upcoming_sleep", 0.0)
        return elapsed + upcoming > self.max_elapsed


Outcome = Literal["success", "failure", "released"]


class RetryingSink(Sink):
    """``sink`` with ``policy``'s retries, timeout and classification, and ``breaker``."""

    def __init__(
        self,
        sink: Sink,
        policy: OnError,
        breaker: CircuitBreaker | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        name: str = "sink",
    ) -> None:
        self.sink = sink
        self.policy = policy
        self.breaker = breaker
        self.name = name
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._wait = _HonourRetryAfter(backoff(policy.retry))
        timeout = policy.timeout
        self._deadlines = None if timeout is None else CallDeadlines(timeout)
        self._unopened = False
        """``open`` found the endpoint down: sends open the sink first."""
        self._opening = asyncio.Lock()

    async def open(self) -> None:
        try:
            await self.sink.open()
        except NotConnected as error:
            log.warning(
                "%s is not connected at start; each send connects first: %s", self.name, error
            )
            self._unopened = True

    async def _open_late(self) -> None:
        """Open the sink that could not connect at start (once, for concurrent sends)."""
        async with self._opening:
            if self._unopened:
                await self.sink.open()
                self._unopened = False
                log.info("%s connected", self.name)

    async def close(self) -> None:
        if self._deadlines is not None:
            self._deadlines.close()
        await self.sink.close()

    async def send(self, message: Message) -> None:
        call = _Call(started=self._clock())
        try:
            while not await self._try(message, call):  # the first attempt, as _attempt
                pass
            return
        except Exception as error:
            if not self.policy.classify.is_transient(error):  # the loop would not retry it
                error.__dict__["attempts"] = call.history
                raise
            first = error
        await self._retry(message, call, first)

    async def _retry(self, message: Message, call: _Call, first: Exception) -> None:
        """The tenacity loop after a first attempt that failed with ``first``."""
        replay: Exception | None = first
        try:
            async for attempt in self._retrying(call):
                with attempt:
                    if replay is not None:  # attempt 1, already made: its failure again
                        error, replay = replay, None
                        raise error
                    await self._attempt(message, call)
        except Exception as error:
            error.__dict__["attempts"] = call.history
            raise

    def _retrying(self, call: _Call) -> AsyncRetrying:
        retry = self.policy.retry
        stop: stop_base = stop_after_attempt(retry.attempts)
        if retry.max_elapsed is not None:
            stop = stop | _OutOfTime(call, retry.max_elapsed, self._clock)
        return AsyncRetrying(
            retry=retry_if_exception(self.policy.classify.is_transient),
            stop=stop,
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=call.note_wait,
            reraise=True,
        )

    async def _attempt(self, message: Message, call: _Call) -> None:
        """One attempt; a failed half-open probe is not one (the endpoint is still down)."""
        while not await self._try(message, call):
            pass

    async def _try(self, message: Message, call: _Call) -> bool:
        """Send once; False when this was a breaker probe that failed transiently."""
        probe = False
        breaker = self.breaker
        if breaker is not None:
            if not breaker.try_enter():
                call.breaker_wait += await breaker.wait_closed()
            probe = breaker.state is BreakerState.HALF_OPEN
        message.attempts += 1
        outcome: Outcome = "released"
        try:
            if self._unopened:
                await self._open_late()
            deadlines = self._deadlines
            if deadlines is None:
                await self.sink.send(message)
            else:
                deadline = deadlines.start()
                try:
                    await self.sink.send(message)
                except BaseException as failure:
                    timed_out = deadline.failed(failure, f"{self.name} call")
                    if timed_out is not None:
                        raise timed_out from failure
                    raise
                deadline.done()
            outcome = "success"
        except Exception as error:
            transient = self.policy.classify.is_transient(error)
            call.history.append(self._record(len(call.history) + 1, error, transient))
            outcome = "failure" if transient else "released"
            if probe and transient:
                return False
            raise
        finally:
            self._settle(outcome)
        return True

    def _record(self, number: int, error: Exception, transient: bool) -> Attempt:
        code = error.code if isinstance(error, SpliceError) else type(error).__name__
        return Attempt(
            attempt=number,
            at=self._wall_clock(),
            error=str(error) or type(error).__name__,
            code=code,
            transient=transient,
            wait=None,
        )

    def _settle(self, outcome: Outcome) -> None:
        if self.breaker is None:
            return
        if outcome == "success":
            self.breaker.record_success()
        elif outcome == "failure":
            self.breaker.record_failure()
        else:
            self.breaker.release()
