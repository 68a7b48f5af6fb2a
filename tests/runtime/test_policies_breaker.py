"""CircuitBreaker and Breakers: states, the window, probes, waiting callers, sharing.

Time is fake. ``GatedTime.sleep`` records the wait asked for and then holds the caller
until the test moves the clock on, which is how "callers wait while open" is observed
without anything really waiting.
"""

from __future__ import annotations

import asyncio

import pytest

from splice.components.interfaces import Sink
from splice.errors import PermanentError, TransientError
from splice.message import Message
from splice.runtime.breaker import Breakers, BreakerState, CircuitBreaker
from splice.runtime.policies import BreakerPolicy, OnError
from splice.runtime.retry import RetryingSink

ENDPOINT = "https://erp.example.com/api/orders"


class GatedTime:
    """A clock the test moves; ``sleep`` waits until the clock reaches its deadline."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._moved = asyncio.Event()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        deadline = self.now + seconds
        while self.now < deadline:
            await self._moved.wait()

    def advance_to(self, when: float) -> None:
        self.now = when
        self._moved.set()
        self._moved = asyncio.Event()


class AutoTime:
    """A clock that every ``sleep`` moves forward at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class ScriptedSink(Sink):
    def __init__(self, *outcomes: BaseException | None) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def send(self, message: Message) -> None:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome


async def settle() -> None:
    """Let every ready task run until it blocks."""
    for _ in range(20):
        await asyncio.sleep(0)


def breaker(time: GatedTime | AutoTime, **policy: float) -> CircuitBreaker:
    fields = {"failures": 3, "window": 60, "reset_after": 30, **policy}
    return CircuitBreaker(
        ENDPOINT, BreakerPolicy.model_validate(fields), clock=time.clock, sleep=time.sleep
    )


def fail_at(b: CircuitBreaker, time: GatedTime | AutoTime, *moments: float) -> None:
    for moment in moments:
        time.now = moment
        assert b.try_enter()
        b.record_failure()


def test_opens_after_n_failures_within_the_window() -> None:
    time = GatedTime()
    b = breaker(time)

    fail_at(b, time, 0, 10, 20)

    assert b.snapshot() == {
        "endpoint": ENDPOINT,
        "state": "open",
        "failures": 3,
        "opened_at": 20,
        "next_probe_at": 50,
    }
    assert not b.try_enter()


def test_stays_closed_when_the_failures_are_spread_beyond_the_window() -> None:
    time = GatedTime()
    b = breaker(time)

    fail_at(b, time, 0, 40, 80, 120)

    assert b.state is BreakerState.CLOSED
    assert b.failures == 2
    assert b.snapshot()["next_probe_at"] is None


def test_lets_a_probe_through_after_reset_after_and_a_success_closes() -> None:
    time = GatedTime()
    b = breaker(time)
    fail_at(b, time, 0, 1, 2)

    time.now = 31.9
    assert not b.try_enter()
    time.now = 32
    assert b.try_enter()
    assert b.state is BreakerState.HALF_OPEN
    assert not b.try_enter()  # one probe at a time
    b.record_success()

    assert b.snapshot() == {
        "endpoint": ENDPOINT,
        "state": "closed",
        "failures": 0,
        "opened_at": None,
        "next_probe_at": None,
    }


def test_a_failed_probe_opens_it_again() -> None:
    time = GatedTime()
    b = breaker(time)
    fail_at(b, time, 0, 1, 2)

    time.now = 40
    assert b.try_enter()
    b.record_failure()

    assert b.state is BreakerState.OPEN
    assert b.snapshot()["next_probe_at"] == 70


def test_half_open_lets_the_configured_number_of_probes_through() -> None:
    time = GatedTime()
    b = breaker(time, half_open_probes=2)
    fail_at(b, time, 0, 1, 2)
    time.now = 40

    assert [b.try_enter() for _ in range(3)] == [True, True, False]
    b.release()  # a probe that told nothing (a permanent error) gives its slot back
    assert b.try_enter()


async def test_a_waiting_caller_goes_on_when_a_probe_closes_the_breaker() -> None:
    time = GatedTime()
    b = breaker(time)
    fail_at(b, time, 0, 1, 2)
    time.now = 40
    assert b.try_enter()  # the probe

    waiter = asyncio.create_task(b.wait_closed())
    await settle()
    assert not waiter.done()

    b.record_success()
    await asyncio.wait_for(waiter, 5)
    assert b.state is BreakerState.CLOSED


async def test_an_open_breaker_makes_callers_wait_without_using_attempts() -> None:
    time = GatedTime()
    breakers = Breakers(clock=time.clock, sleep=time.sleep)
    b = breakers.get(ENDPOINT, BreakerPolicy(failures=3, reset_after=30))
    fail_at(b, time, 0, 1, 2)
    inner = ScriptedSink()
    on_error = OnError.model_validate({"retry": {"attempts": 1}})
    retrying = RetryingSink(inner, on_error, b, sleep=time.sleep, clock=time.clock)
    message = Message(body=b"{}")

    sending = asyncio.create_task(retrying.send(message))
    await settle()

    assert not sending.done()
    assert inner.calls == 0
    assert message.attempts == 0
    assert time.sleeps == [30.0]  # until next_probe_at (opened at 2, reset_after 30)

    time.advance_to(32)
    await asyncio.wait_for(sending, 5)

    assert inner.calls == 1
    assert message.attempts == 1
    assert b.state is BreakerState.CLOSED


async def test_a_failed_probe_makes_the_sender_wait_again_not_dead_letter() -> None:
    time = AutoTime()
    b = breaker(time, failures=2, reset_after=30)
    inner = ScriptedSink(TransientError("down"), TransientError("down"), TransientError("down"))
    on_error = OnError.model_validate(
        {"retry": {"attempts": 4, "initial": 1, "jitter": "none", "max_elapsed": "10s"}}
    )
    retrying = RetryingSink(inner, on_error, b, sleep=time.sleep, clock=time.clock)
    message = Message(body=b"{}")

    await retrying.send(message)

    # calls: fail, fail (opens), probe fails (re-opens), probe succeeds. The 60s spent
    # waiting for the breaker do not count toward max_elapsed (10s).
    assert inner.calls == 4
    assert message.attempts == 4
    assert b.state is BreakerState.CLOSED
    assert time.now > 60


async def test_two_sinks_on_the_same_endpoint_share_one_breaker() -> None:
    time = GatedTime()
    breakers = Breakers(clock=time.clock, sleep=time.sleep)
    policy = BreakerPolicy(failures=2, reset_after=30)
    on_error = OnError.model_validate({"retry": {"attempts": 2, "initial": 0}})
    flow_a = ScriptedSink(TransientError("down"), TransientError("down"))
    flow_b = ScriptedSink()
    sink_a = RetryingSink(
        flow_a, on_error, breakers.get(ENDPOINT, policy), sleep=time.sleep, clock=time.clock
    )
    sink_b = RetryingSink(
        flow_b, on_error, breakers.get(ENDPOINT, policy), sleep=time.sleep, clock=time.clock
    )

    sending_a = asyncio.create_task(sink_a.send(Message(body=b"a")))
    await settle()
    sending_b = asyncio.create_task(sink_b.send(Message(body=b"b")))
    await settle()

    assert sending_a.done()  # used up its 2 attempts and opened the breaker
    assert isinstance(sending_a.exception(), TransientError)
    assert not sending_b.done()
    assert flow_b.calls == 0
    assert breakers.snapshots() == [
        {
            "endpoint": ENDPOINT,
            "state": "open",
            "failures": 2,
            "opened_at": 0.0,
            "next_probe_at": 30.0,
        }
    ]

    time.advance_to(30)
    await asyncio.wait_for(sending_b, 5)
    assert flow_b.calls == 1
    assert breakers.snapshots()[0]["state"] == "closed"


async def test_only_transient_failures_count_toward_opening() -> None:
    time = AutoTime()
    b = breaker(time, failures=2)
    inner = ScriptedSink(*[PermanentError("rejected", status=422) for _ in range(5)])
    retrying = RetryingSink(inner, OnError(), b, sleep=time.sleep, clock=time.clock)

    for _ in range(5):
        with pytest.raises(PermanentError):
            await retrying.send(Message(body=b""))

    assert b.state is BreakerState.CLOSED
    assert b.failures == 0


def test_the_registry_keeps_one_breaker_per_endpoint() -> None:
    breakers = Breakers()
    first = breakers.get("amqp://broker/orders", BreakerPolicy())
    again = breakers.get("amqp://broker/orders", BreakerPolicy(failures=9))
    other = breakers.get("https://erp.example.com", BreakerPolicy())

    assert first is again
    assert first.policy.failures == 5  # the first policy registered is kept
    assert other is not first
    assert "amqp://broker/orders" in breakers
    assert [s["endpoint"] for s in breakers.snapshots()] == [
        "amqp://broker/orders",
        "https://erp.example.com",
    ]


async def test_failed_probes_do_not_use_up_attempts_so_a_long_outage_dead_letters_nothing() -> None:
    time = AutoTime()
    b = breaker(time, failures=2, reset_after=30)
    outage = [TransientError("down") for _ in range(12)]
    inner = ScriptedSink(*outage)
    on_error = OnError.model_validate({"retry": {"attempts": 3, "initial": 1, "jitter": "none"}})
    retrying = RetryingSink(inner, on_error, b, sleep=time.sleep, clock=time.clock)

    await retrying.send(Message(body=b"{}"))

    # two failures open the breaker; ten failed probes (one per reset_after) follow; the
    # eleventh probe succeeds: the message was never out of attempts while the endpoint was down
    assert inner.calls == 13
    assert b.state is BreakerState.CLOSED
    assert time.now >= 10 * 30
