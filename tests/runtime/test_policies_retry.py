"""RetryingSink: what is retried, how often, how long it waits, what it records.

Time is fake: the injected ``sleep`` records each wait and moves the injected clock, so
nothing really waits and no assertion depends on the machine's speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from tenacity import RetryCallState

from splice.components.interfaces import Sink
from splice.errors import (
    CodecError,
    NotConnected,
    PermanentError,
    SpliceError,
    TransientError,
    is_transient,
)
from splice.message import Message
from splice.runtime.policies import OnError, RetryPolicy
from splice.runtime.retry import RetryingSink, attempts_of, backoff


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class ScriptedSink(Sink):
    """Raises the scripted errors in turn (``None`` = confirm), then confirms."""

    def __init__(self, *outcomes: BaseException | None, each_takes: float = 0.0) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0
        self.received: list[Message] = []
        self.time: FakeTime | None = None
        self.each_takes = each_takes

    async def send(self, message: Message) -> None:
        self.calls += 1
        if self.time is not None:
            self.time.now += self.each_takes
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.received.append(message)


def policy(**retry: Any) -> OnError:
    fields: dict[str, Any] = {"retry": {"initial": 1, "max": 60, **retry}}
    return OnError.model_validate(fields)


def wrap(sink: ScriptedSink, on_error: OnError, time: FakeTime) -> RetryingSink:
    sink.time = time
    return RetryingSink(sink, on_error, sleep=time.sleep, clock=time.clock, name="sinks.erp")


def always(error: Callable[[], BaseException], times: int = 50) -> list[BaseException | None]:
    return [error() for _ in range(times)]


async def test_transient_failure_is_retried_up_to_attempts_then_raised() -> None:
    time = FakeTime()
    inner = ScriptedSink(*always(lambda: TransientError("erp busy")))
    message = Message(body=b"{}")

    with pytest.raises(TransientError, match="erp busy"):
        await wrap(inner, policy(attempts=3), time).send(message)

    assert inner.calls == 3
    assert message.attempts == 3
    assert len(time.sleeps) == 2


async def test_every_attempt_is_recorded_on_the_raised_error() -> None:
    time = FakeTime()
    inner = ScriptedSink(NotConnected("down"), TransientError("busy", code="erp-busy"))

    with pytest.raises(TransientError) as raised:
        await wrap(inner, policy(attempts=2), time).send(Message(body=b""))

    history = attempts_of(raised.value)
    assert [a["attempt"] for a in history] == [1, 2]
    assert [a["code"] for a in history] == ["not-connected", "erp-busy"]
    assert [a["error"] for a in history] == ["down", "busy"]
    assert all(a["transient"] for a in history)
    assert history[0]["wait"] == time.sleeps[0]
    assert history[1]["wait"] is None


async def test_success_after_retries_delivers_once_and_counts_attempts() -> None:
    time = FakeTime()
    inner = ScriptedSink(ConnectionResetError("reset"), TimeoutError(), None)
    message = Message(body=b"{}")

    await wrap(inner, policy(attempts=5), time).send(message)

    assert inner.received == [message]
    assert inner.calls == 3
    assert message.attempts == 3


@pytest.mark.parametrize(
    "error",
    [
        PermanentError("rejected", status=400),
        CodecError("not JSON", position="1:1"),
        ValueError("a bug in a connector"),
    ],
    ids=["permanent", "message-error", "unknown-exception"],
)
async def test_permanent_failure_is_raised_at_once(error: Exception) -> None:
    time = FakeTime()
    inner = ScriptedSink(error)
    message = Message(body=b"{}")

    with pytest.raises(type(error)) as raised:
        await wrap(inner, policy(attempts=5), time).send(message)

    assert inner.calls == 1
    assert message.attempts == 1
    assert time.sleeps == []
    assert [a["transient"] for a in attempts_of(raised.value)] == [False]


async def test_max_elapsed_stops_before_attempts_run_out() -> None:
    time = FakeTime()
    inner = ScriptedSink(*always(lambda: TransientError("slow and failing")), each_takes=20)
    on_error = policy(attempts=10, jitter="none", max_elapsed="50s")

    with pytest.raises(TransientError):
        await wrap(inner, on_error, time).send(Message(body=b""))

    # calls end at 20s and 41s (+1s, +2s waits); the third ends at 63s > 50s
    assert inner.calls == 3
    assert time.sleeps == [1.0, 2.0]


async def test_a_wait_that_would_end_past_max_elapsed_is_not_taken() -> None:
    time = FakeTime()
    inner = ScriptedSink(TransientError("come back later", retry_after=120))

    with pytest.raises(TransientError):
        await wrap(inner, policy(attempts=5, max_elapsed="1m"), time).send(Message(body=b""))

    assert inner.calls == 1
    assert time.sleeps == []


async def test_retry_after_is_waited_when_longer_than_the_backoff() -> None:
    time = FakeTime()
    inner = ScriptedSink(TransientError("429", retry_after=7), None)

    await wrap(inner, policy(attempts=3), time).send(Message(body=b""))

    assert time.sleeps == [7.0]


async def test_backoff_is_waited_when_longer_than_retry_after() -> None:
    time = FakeTime()
    inner = ScriptedSink(TransientError("503", retry_after=2), None)

    await wrap(inner, policy(attempts=3, initial=10, jitter="none"), time).send(Message(body=b""))

    assert time.sleeps == [10.0]


async def test_without_jitter_the_waits_double_up_to_max() -> None:
    time = FakeTime()
    inner = ScriptedSink(*always(lambda: TransientError("busy")))
    on_error = policy(attempts=6, initial=1, max=8, jitter="none", max_elapsed=None)

    with pytest.raises(TransientError):
        await wrap(inner, on_error, time).send(Message(body=b""))

    assert time.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0]


async def test_fixed_backoff_waits_the_same_each_time() -> None:
    time = FakeTime()
    inner = ScriptedSink(*always(lambda: TransientError("busy")))
    on_error = policy(attempts=4, backoff="fixed", initial="3s", jitter="none")

    with pytest.raises(TransientError):
        await wrap(inner, on_error, time).send(Message(body=b""))

    assert time.sleeps == [3.0, 3.0, 3.0]


def _state_at(attempt_number: int) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt_number
    return state


@pytest.mark.parametrize("attempt_number", range(1, 12))
def test_full_jitter_waits_within_zero_and_the_capped_exponential(attempt_number: int) -> None:
    wait = backoff(RetryPolicy(initial=0.5, max=30, jitter="full"))
    cap = min(30.0, 0.5 * 2 ** (attempt_number - 1))

    waits = [wait(_state_at(attempt_number)) for _ in range(200)]

    assert all(0.0 <= w <= cap for w in waits)
    assert len(set(waits)) > 1  # random, not the cap every time


async def test_full_jitter_waits_of_a_send_stay_within_their_caps() -> None:
    time = FakeTime()
    inner = ScriptedSink(*always(lambda: TransientError("busy")))
    on_error = policy(attempts=9, initial=1, max=16, max_elapsed=None)

    with pytest.raises(TransientError):
        await wrap(inner, on_error, time).send(Message(body=b""))

    caps = [min(16.0, 2.0**n) for n in range(8)]
    assert len(time.sleeps) == 8
    assert all(0.0 <= wait <= cap for wait, cap in zip(time.sleeps, caps, strict=True))


async def test_classify_can_make_a_permanent_status_transient() -> None:
    time = FakeTime()
    inner = ScriptedSink(PermanentError("conflict, replica lagging", status=409), None)
    on_error = OnError.model_validate({"classify": {"transient": [409]}})

    await wrap(inner, on_error, time).send(Message(body=b""))

    assert inner.calls == 2


async def test_classify_can_make_a_transient_code_permanent() -> None:
    time = FakeTime()
    inner = ScriptedSink(TransientError("monthly quota used up", code="quota-exceeded"))
    on_error = OnError.model_validate({"classify": {"permanent": ["quota-exceeded"]}})

    with pytest.raises(TransientError):
        await wrap(inner, on_error, time).send(Message(body=b""))

    assert inner.calls == 1


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (400, False),
        (401, False),
        (404, False),
        (409, False),
        (422, False),
        (501, False),
    ],
)
def test_http_statuses_are_classified_by_the_table(status: int, transient: bool) -> None:
    classify = OnError().classify

    assert classify.is_transient(PermanentError("http", status=status)) is transient


def test_a_message_error_is_never_retried_even_if_listed() -> None:
    classify = OnError.model_validate({"classify": {"transient": ["codec"]}}).classify

    assert classify.is_transient(CodecError("bad bytes")) is False


class HangingSink(Sink):
    """Hangs on its first call (until cancelled by the timeout), then confirms."""

    def __init__(self) -> None:
        self.calls = 0
        self.cancelled = False

    async def send(self, message: Message) -> None:
        self.calls += 1
        if self.calls == 1:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise


async def test_a_sink_call_past_its_timeout_is_cancelled_and_retried() -> None:
    time = FakeTime()
    inner = HangingSink()
    on_error = OnError.model_validate({"timeout": "10ms", "retry": {"attempts": 2}})
    retrying = RetryingSink(inner, on_error, sleep=time.sleep, clock=time.clock)
    message = Message(body=b"")

    await retrying.send(message)

    assert inner.calls == 2
    assert inner.cancelled
    assert message.attempts == 2


async def test_a_timeout_is_recorded_as_a_transient_timeout_error() -> None:
    time = FakeTime()
    on_error = OnError.model_validate({"timeout": "10ms", "retry": {"attempts": 1}})
    retrying = RetryingSink(HangingSink(), on_error, sleep=time.sleep, clock=time.clock)

    with pytest.raises(TimeoutError) as raised:
        await retrying.send(Message(body=b""))

    assert isinstance(raised.value, TransientError)
    assert is_transient(raised.value)
    assert raised.value.code == "timeout"
    assert "timed out after 0.01s" in str(raised.value)
    assert attempts_of(raised.value)[0]["code"] == "timeout"


async def test_open_and_close_reach_the_wrapped_sink() -> None:
    class Lifecycle(ScriptedSink):
        def __init__(self) -> None:
            super().__init__()
            self.events: list[str] = []

        async def open(self) -> None:
            self.events.append("open")

        async def close(self) -> None:
            self.events.append("close")

    inner = Lifecycle()
    retrying = RetryingSink(inner, OnError())

    await retrying.open()
    await retrying.close()

    assert inner.events == ["open", "close"]


def test_an_error_without_history_has_none() -> None:
    assert attempts_of(SpliceError("never wrapped")) == []


class DownAtStart(ScriptedSink):
    """A sink whose endpoint is down for its first ``down_for`` opens."""

    def __init__(self, down_for: int) -> None:
        super().__init__()
        self.down_for = down_for
        self.opens = 0

    async def open(self) -> None:
        self.opens += 1
        await asyncio.sleep(0)  # concurrent sends meet here
        if self.opens <= self.down_for:
            raise NotConnected(f"endpoint down (open {self.opens})")


async def test_a_sink_down_at_start_lets_the_flow_start_and_connects_on_a_later_send(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner, time = DownAtStart(down_for=3), FakeTime()
    retrying = wrap(inner, policy(attempts=5), time)
    await retrying.open()  # no error: the flow starts
    assert "sinks.erp is not connected at start" in caplog.text
    message = Message(b"order")
    await retrying.send(message)
    assert inner.opens == 4  # the failed open at start, two failed attempts, then connected
    assert inner.received == [message]
    assert message.attempts == 3
    assert len(time.sleeps) == 2  # each failed open waited the backoff like a failed send
    await retrying.send(Message(b"next"))
    assert inner.opens == 4  # open once connected, not again


async def test_concurrent_sends_to_a_sink_down_at_start_open_it_once() -> None:
    inner = DownAtStart(down_for=1)
    retrying = wrap(inner, policy(attempts=3), FakeTime())
    await retrying.open()
    await asyncio.gather(*(retrying.send(Message(b"%d" % i)) for i in range(5)))
    assert inner.opens == 2
    assert len(inner.received) == 5


async def test_a_sink_that_stays_down_fails_its_sends_with_the_attempts_recorded() -> None:
    inner = DownAtStart(down_for=100)
    retrying = wrap(inner, policy(attempts=3), FakeTime())
    await retrying.open()
    with pytest.raises(NotConnected) as caught:
        await retrying.send(Message(b"order"))
    assert [a["code"] for a in attempts_of(caught.value)] == ["not-connected"] * 3
    assert inner.received == []


async def test_a_sink_refusing_its_settings_at_start_still_stops_the_start() -> None:
    class Misconfigured(ScriptedSink):
        async def open(self) -> None:
            raise PermanentError("bad credentials")

    with pytest.raises(PermanentError):
        await wrap(Misconfigured(), policy(), FakeTime()).open()
