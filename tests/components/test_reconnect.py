"""until_connected retries a connect step with growing waits until it works or is stopped;
connect_or_wait lets a source open without its endpoint when only that is down."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import pytest

from splice.components.reconnect import connect_or_wait, until_connected
from splice.errors import ConnectorError, NotConnected

log = logging.getLogger("tests.reconnect")


@dataclass
class Waits:
    reconnect_initial: float
    reconnect_max: float


async def test_connector_errors_are_retried_until_the_connect_works(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = [NotConnected("broker down"), ConnectorError("login refused")]

    async def connect() -> None:
        if failures:
            raise failures.pop(0)

    with caplog.at_level(logging.WARNING, logger="tests.reconnect"):
        connected = await until_connected(
            connect, asyncio.Event(), Waits(0.01, 0.02), log=log, what="the broker"
        )
    assert connected
    assert caplog.messages == ["broker down; retrying in 0.0s", "login refused; retrying in 0.0s"]


async def test_waits_double_up_to_the_maximum_with_jitter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        drawn.append((low, high))
        return 0.0

    monkeypatch.setattr("splice.components.reconnect.random.uniform", uniform)
    attempts = 0

    async def connect() -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 5:
            raise NotConnected("down")

    assert await until_connected(connect, asyncio.Event(), Waits(1, 4), log=log, what="the broker")
    assert drawn == [(0.5, 1), (1, 2), (2, 4), (2, 4)]  # half to all of 1, 2, 4, 4 s


async def test_stopping_ends_the_wait_at_once() -> None:
    stop = asyncio.Event()

    async def connect() -> None:
        stop.set()  # closed while the first attempt ran
        raise NotConnected("down")

    async with asyncio.timeout(5):  # the wait would be an hour
        connected = await until_connected(
            connect, stop, Waits(3600, 3600), log=log, what="the broker"
        )
    assert not connected


async def test_a_stopped_source_does_not_try_at_all() -> None:
    stop = asyncio.Event()
    stop.set()

    async def connect() -> None:
        raise AssertionError("not called")

    assert not await until_connected(connect, stop, Waits(1, 1), log=log, what="the broker")


async def test_other_errors_are_not_swallowed() -> None:
    async def connect() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        await until_connected(
            connect, asyncio.Event(), Waits(0.01, 0.01), log=log, what="the broker"
        )


async def test_a_connection_made_after_the_source_closed_is_undone() -> None:
    stop, undone = asyncio.Event(), []

    async def connect() -> None:
        stop.set()  # closed while this attempt ran; it succeeds all the same

    async def undo() -> None:
        undone.append(True)

    connected = await until_connected(
        connect, stop, Waits(1, 1), log=log, what="the broker", undo=undo
    )
    assert not connected
    assert undone == [True]


async def test_an_unreachable_endpoint_lets_the_source_open(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def connect() -> None:
        raise NotConnected("cannot reach the broker", code="x-connect")

    with caplog.at_level(logging.WARNING, logger="tests.reconnect"):
        await connect_or_wait(connect, unreachable="x-connect", log=log)
    assert caplog.messages == [
        "cannot reach the broker; the flow starts and receives once it is reached"
    ]


@pytest.mark.parametrize(
    "error",
    [NotConnected("cannot consume: no queue", code="x-consume"), ConnectorError("login refused")],
)
async def test_anything_but_an_unreachable_endpoint_stops_the_open(error: Exception) -> None:
    async def connect() -> None:
        raise error

    with pytest.raises(type(error)):
        await connect_or_wait(connect, unreachable="x-connect", log=log)
