"""The sink fast path: a first call outside tenacity changes nothing that can be observed.

``RetryingSink.send`` makes its first attempt directly and enters the tenacity loop only
after a failure the policy retries. :class:`LoopFromTheStart` is the way it was before (the
loop from the first call on); both run the same scripts under the same fake time and the
same random seed, and must record the same attempts, waits, counts, errors and breaker
states. The sink calls' :class:`CallDeadlines` are checked against what ``within`` did.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from splice.components.interfaces import Sink
from splice.errors import NotConnected, PermanentError, TransientError
from splice.message import Message
from splice.runtime.breaker import BreakerState, CircuitBreaker
from splice.runtime.policies import BreakerPolicy, OnError
from splice.runtime.retry import RetryingSink, _Call, attempts_of
from splice.runtime.timeouts import CallDeadlines, CallTimedOut


class LoopFromTheStart(RetryingSink):
    """The reference: every attempt, the first included, made inside the tenacity loop."""

    async def send(self, message: Message) -> None:
        call = _Call(started=self._clock())
        try:
            async for attempt in self._retrying(call):
                with attempt:
                    await self._attempt(message, call)
        except Exception as error:
            error.__dict__["attempts"] = call.history
            raise


class FakeTime:
    """Monotonic and wall clocks that only sleeps and sink calls move."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Scripted(Sink):
    """Raises the scripted errors in turn (``None`` = confirm), then confirms."""

    def __init__(self, time: FakeTime, outcomes: list[BaseException | None], takes: float) -> None:
        self.time = time
        self.outcomes = list(outcomes)
        self.takes = takes
        self.calls = 0

    async def send(self, message: Message) -> None:
        self.calls += 1
        self.time.now += self.takes
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome


@dataclass
class Run:
    raised: tuple[str, str] | None
    history: list[Any]
    sleeps: list[float]
    calls: int
    attempts: int
    breaker: list[tuple[str, int]]


async def run(
    cls: type[RetryingSink],
    outcomes: list[BaseException | None],
    on_error: dict[str, Any],
    *,
    sends: int = 1,
    takes: float = 0.0,
    seed: int = 7,
) -> Run:
    random.seed(seed)  # full jitter draws from random
    time = FakeTime()
    policy = OnError.model_validate(on_error)
    breaker = None
    if policy.circuit_breaker is not None:
        breaker = CircuitBreaker("erp", policy.circuit_breaker, clock=time.clock, sleep=time.sleep)
    inner = Scripted(time, outcomes, takes)
    sink = cls(
        inner,
        policy,
        breaker,
        sleep=time.sleep,
        clock=time.clock,
        wall_clock=time.wall,
        name="sinks.erp",
    )
    raised: tuple[str, str] | None = None
    history: list[Any] = []
    attempts = 0
    states: list[tuple[str, int]] = []
    for _ in range(sends):
        message = Message(body=b"{}")
        try:
            await sink.send(message)
        except Exception as error:
            raised = (type(error).__name__, str(error))
            history.append(attempts_of(error))
        attempts += message.attempts
        if breaker is not None:
            states.append((breaker.state.value, breaker.failures))
    return Run(raised, history, time.sleeps, inner.calls, attempts, states)


def busy(n: int, **kw: Any) -> list[BaseException | None]:
    return [TransientError(f"busy {i}", **kw) for i in range(n)]


Script = tuple[list[BaseException | None], dict[str, Any], dict[str, Any]]

SCRIPTS: dict[str, Callable[[], Script]] = {
    "never-fails": lambda: ([], {}, {}),
    "fails-once": lambda: (busy(1), {}, {}),
    "fails-always": lambda: (busy(50), {"retry": {"attempts": 4}}, {}),
    "fails-always-no-jitter": lambda: (
        busy(50),
        {"retry": {"attempts": 6, "jitter": "none", "max": 8, "max_elapsed": None}},
        {},
    ),
    "permanent-first": lambda: ([PermanentError("rejected", status=400)], {}, {}),
    "transient-then-permanent": lambda: ([NotConnected("down"), ValueError("bug")], {}, {}),
    "retry-after": lambda: (busy(2, retry_after=7), {"retry": {"attempts": 5}}, {}),
    "retry-after-past-max-elapsed": lambda: (
        busy(1, retry_after=120),
        {"retry": {"max_elapsed": "1m"}},
        {},
    ),
    "max-elapsed": lambda: (
        busy(50),
        {"retry": {"attempts": 10, "jitter": "none", "max_elapsed": "50s"}},
        {"takes": 20.0},
    ),
    "single-attempt": lambda: (busy(3), {"retry": {"attempts": 1}}, {"sends": 3}),
    "classified-transient": lambda: (
        [PermanentError("conflict", status=409), None],
        {"classify": {"transient": [409]}},
        {},
    ),
    "breaker-opens-and-probes": lambda: (
        busy(6),
        {
            "retry": {"attempts": 3, "initial": 1, "max_elapsed": None},
            "circuit_breaker": {"failures": 2, "reset_after": 5},
        },
        {"sends": 3},
    ),
    "no-breaker": lambda: (busy(2), {"circuit_breaker": None}, {"sends": 2}),
}


@pytest.mark.parametrize("script", SCRIPTS, ids=list(SCRIPTS))
@pytest.mark.parametrize("seed", [1, 7, 42])
async def test_the_fast_path_records_exactly_what_the_loop_recorded(script: str, seed: int) -> None:
    outcomes, on_error, options = SCRIPTS[script]()
    before = await run(LoopFromTheStart, outcomes, on_error, seed=seed, **options)

    outcomes, on_error, options = SCRIPTS[script]()  # fresh errors: nothing carried over
    after = await run(RetryingSink, outcomes, on_error, seed=seed, **options)

    assert after == before


async def test_a_sink_failing_once_records_two_attempts() -> None:
    outcome = await run(RetryingSink, busy(1), {"retry": {"attempts": 1}})
    assert outcome.history[0] == [
        {
            "attempt": 1,
            "at": 1_700_000_100.0,
            "error": "busy 0",
            "code": "transient",
            "transient": True,
            "wait": None,
        }
    ]

    retried = await run(RetryingSink, [*busy(1), None], {"retry": {"attempts": 2}})
    assert (retried.raised, retried.calls, retried.attempts) == (None, 2, 2)
    assert len(retried.sleeps) == 1

    failing = await run(RetryingSink, busy(2), {"retry": {"attempts": 2, "jitter": "none"}})
    assert [(a["attempt"], a["error"], a["wait"]) for a in failing.history[0]] == [
        (1, "busy 0", 1.0),
        (2, "busy 1", None),
    ]


async def test_a_sink_that_never_fails_is_called_once_and_waits_for_nothing() -> None:
    outcome = await run(RetryingSink, [], {}, sends=3)

    assert (outcome.raised, outcome.calls, outcome.attempts) == (None, 3, 3)
    assert outcome.sleeps == []
    assert outcome.breaker == [("closed", 0)] * 3


async def test_the_breaker_still_opens_after_n_failed_first_attempts() -> None:
    on_error = {"retry": {"attempts": 1}, "circuit_breaker": {"failures": 3}}

    outcome = await run(RetryingSink, busy(3), on_error, sends=3)

    assert outcome.breaker == [("closed", 1), ("closed", 2), ("open", 3)]
    assert outcome.calls == 3


async def test_a_closed_breaker_is_passed_without_waiting() -> None:
    time = FakeTime()
    breaker = CircuitBreaker("erp", BreakerPolicy(), clock=time.clock, sleep=time.sleep)

    assert breaker.try_enter()
    assert breaker.state is BreakerState.CLOSED
    assert await breaker.wait_closed() == 0.0


class Hangs:
    """An awaitable call that waits until cancelled; ``swallow`` returns instead of raising."""

    def __init__(self, *, swallow: bool = False, raise_own: BaseException | None = None) -> None:
        self.swallow = swallow
        self.raise_own = raise_own
        self.cancelled = False
        self.wait_again = False

    async def call(self) -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            if self.raise_own is not None:
                raise self.raise_own from None
            if not self.swallow:
                raise
        if self.wait_again:
            await asyncio.Event().wait()
        return "swallowed"


async def limited(
    call: Hangs | Sleeps | None, seconds: float, deadlines: CallDeadlines | None = None
) -> str:
    """What RetryingSink does around one sink call."""
    deadline = (deadlines or CallDeadlines(seconds)).start()
    try:
        result = await call.call() if call is not None else "done"
    except BaseException as error:
        timed_out = deadline.failed(error, "sinks.erp call")
        if timed_out is not None:
            raise timed_out from error
        raise
    deadline.done()
    return result


async def test_a_call_past_its_deadline_is_cancelled_and_times_out() -> None:
    hangs = Hangs()

    with pytest.raises(CallTimedOut, match=r"sinks.erp call timed out after 0.01s"):
        await limited(hangs, 0.01)

    assert hangs.cancelled
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_a_quick_call_leaves_no_timer_behind() -> None:
    assert await limited(None, 0.01) == "done"

    await asyncio.sleep(0.05)  # a timer left armed would cancel this task now
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_a_call_that_swallows_the_cancellation_returns_and_the_task_is_uncancelled() -> None:
    assert await limited(Hangs(swallow=True), 0.01) == "swallowed"

    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_a_timeout_error_of_the_call_after_the_deadline_counts_as_the_timeout() -> None:
    with pytest.raises(CallTimedOut):
        await limited(Hangs(raise_own=TimeoutError("own")), 0.01)


async def test_another_error_after_the_deadline_passes_unchanged() -> None:
    with pytest.raises(ConnectionResetError):
        await limited(Hangs(raise_own=ConnectionResetError("reset")), 0.01)


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    hangs = Hangs()
    task = asyncio.create_task(limited(hangs, 60))
    await asyncio.sleep(0)

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert hangs.cancelled


async def test_a_cancellation_from_elsewhere_after_the_deadline_stays_a_cancellation() -> None:
    hangs = Hangs(swallow=True)
    hangs.wait_again = True
    task = asyncio.create_task(limited(hangs, 0.01))
    for _ in range(500):  # until the deadline has cancelled the call once (it waits again)
        if hangs.cancelled:
            break
        await asyncio.sleep(0.01)
    assert hangs.cancelled

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_deadline_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError):
        CallDeadlines(1.0).start()


class Sleeps:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def call(self) -> str:
        await asyncio.sleep(self.seconds)
        return "slept"


async def test_calls_sharing_the_timer_each_keep_their_own_limit() -> None:
    deadlines = CallDeadlines(0.5)
    quick, hangs, short = Sleeps(0.0), Hangs(), Sleeps(0.05)

    results = await asyncio.gather(
        limited(short, 0.5, deadlines),  # ends before the one started after it
        limited(hangs, 0.5, deadlines),
        limited(quick, 0.5, deadlines),  # ends first
        return_exceptions=True,
    )

    assert results[0] == "slept"
    assert isinstance(results[1], CallTimedOut)
    assert results[2] == "slept"
    assert hangs.cancelled


async def test_a_call_that_ended_is_not_cut_when_its_time_comes() -> None:
    deadlines = CallDeadlines(0.1)

    async def quick_then_busy() -> str:
        await limited(None, 0.1, deadlines)  # ends while the older call still runs
        await asyncio.sleep(0.4)  # past the limit the call had: not cut
        return "after"

    results = await asyncio.gather(
        limited(Hangs(), 0.1, deadlines), quick_then_busy(), return_exceptions=True
    )

    assert isinstance(results[0], CallTimedOut)
    assert results[1] == "after"


async def test_a_call_started_after_an_idle_gap_is_not_cut_by_the_earlier_timer() -> None:
    deadlines = CallDeadlines(1.0)
    assert await limited(None, 1.0, deadlines) == "done"  # arms the timer for t+1.0
    await asyncio.sleep(0.6)

    # runs from about 0.6 to 1.1: past the timer armed by the first call, within its own limit
    assert await limited(Sleeps(0.5), 1.0, deadlines) == "slept"

    with pytest.raises(CallTimedOut):  # and its limit still holds for a call that hangs
        await limited(Hangs(), 1.0, deadlines)
    deadlines.close()


def test_the_same_deadlines_work_on_a_new_event_loop() -> None:
    deadlines = CallDeadlines(0.01)

    for _ in range(2):
        with pytest.raises(CallTimedOut):
            asyncio.run(limited(Hangs(), 0.01, deadlines))
        assert asyncio.run(limited(None, 0.01, deadlines)) == "done"
