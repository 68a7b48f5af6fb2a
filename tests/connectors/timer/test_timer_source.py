"""The timer source: interval and cron schedules, count, skipped ticks, validation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.connectors.timer.source import (
    SPEC,
    CronSchedule,
    IntervalSchedule,
    TimerSource,
    TimerSourceConfig,
)


def make_timer(raw: Any) -> TimerSource:
    config = SPEC.parse(raw)
    assert isinstance(config, TimerSourceConfig)
    return TimerSource(config, Context(project_dir=Path("."), flow="t"))


async def collect(deliveries: AsyncIterator[Delivery]) -> list[Delivery]:
    async def all_of() -> list[Delivery]:
        return [delivery async for delivery in deliveries]

    return await asyncio.wait_for(all_of(), 20)


async def test_an_interval_timer_stops_after_count_ticks() -> None:
    timer = make_timer({"interval": "10ms", "count": 3, "body": {"report": "daily"}})
    await timer.open()
    ticks = await collect(timer.deliveries())
    assert [t.message.headers["timer.sequence"] for t in ticks] == ["1", "2", "3"]
    assert ticks[0].message.body == {"report": "daily"}
    assert ticks[0].message.content_type == "application/json"
    assert ticks[0].message.body is not ticks[1].message.body
    datetime.fromisoformat(ticks[0].message.headers["timer.fired_at"])


async def test_a_text_body_is_sent_as_text() -> None:
    ticks = await collect(make_timer({"interval": 0.01, "count": 1, "body": "ping"}).deliveries())
    assert ticks[0].message.body == b"ping"
    assert ticks[0].message.content_type == "text/plain"


@pytest.mark.parametrize(("resume", "journaled"), [(None, True), (True, True), (False, False)])
async def test_ticks_ask_to_be_journaled_unless_resume_is_off(
    resume: bool | None, journaled: bool
) -> None:
    raw: dict[str, Any] = {"interval": 0.01, "count": 1}
    if resume is not None:
        raw["resume"] = resume
    [tick] = await collect(make_timer(raw).deliveries())
    assert tick.needs_journal is journaled


async def test_the_shorthand_is_the_interval() -> None:
    assert make_timer("5m")._config.interval == 300.0


async def test_a_cron_timer_fires_on_its_schedule() -> None:
    timer = make_timer({"cron": "* * * * * *", "count": 2})
    ticks = await collect(timer.deliveries())
    fired = [datetime.fromisoformat(t.message.headers["timer.fired_at"]) for t in ticks]
    assert fired[1] > fired[0]
    assert fired[1].replace(microsecond=0) > fired[0].replace(microsecond=0)


def test_cron_times_follow_the_time_zone() -> None:
    start = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    schedule = CronSchedule("0 9 * * *", "Europe/Paris", start)
    assert schedule.first == datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
    assert schedule.after(schedule.first) == datetime(2024, 1, 3, 8, 0, tzinfo=UTC)
    summer = schedule.after(datetime(2024, 7, 1, 12, 0, tzinfo=UTC))
    assert summer == datetime(2024, 7, 2, 7, 0, tzinfo=UTC)


def test_overdue_ticks_collapse_into_one_and_are_counted() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    interval = IntervalSchedule(60, start)
    due, missed = interval.overdue(start, datetime(2024, 1, 1, 0, 5, 30, tzinfo=UTC))
    assert (due, missed) == (datetime(2024, 1, 1, 0, 5, tzinfo=UTC), 5)
    cron = CronSchedule("*/10 * * * *", "UTC", start)
    due, missed = cron.overdue(cron.first, datetime(2024, 1, 1, 1, 5, tzinfo=UTC))
    assert (due, missed) == (datetime(2024, 1, 1, 1, 0, tzinfo=UTC), 5)


async def test_ticks_are_not_queued_while_the_runtime_is_not_pulling() -> None:
    timer = make_timer({"interval": "10ms"})
    deliveries = timer.deliveries()
    first = await asyncio.wait_for(anext(deliveries), 10)
    await asyncio.sleep(0.2)  # the runtime is busy: no pulls
    second = await asyncio.wait_for(anext(deliveries), 10)
    assert first.message.headers["timer.sequence"] == "1"
    assert second.message.headers["timer.sequence"] == "2"
    assert int(second.message.headers["timer.missed"]) >= 1
    await timer.close()


async def test_close_ends_a_waiting_timer() -> None:
    timer = make_timer({"interval": "1h"})
    deliveries = timer.deliveries()
    await anext(deliveries)  # the first tick is immediate
    waiting = asyncio.ensure_future(anext(deliveries))
    await asyncio.sleep(0.05)
    await timer.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 10)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"cron": "61 * * * *"}, "invalid cron expression"),
        ({"cron": "every monday"}, "invalid cron expression"),
        ({"cron": "0 9 * * *", "interval": "1m"}, "exactly one"),
        ({}, "exactly one"),
        ({"interval": 0}, "more than zero"),
        ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"interval": "1s", "count": 0}, "greater than or equal to 1"),
    ],
)
def test_bad_schedules_are_refused_at_validation(raw: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        SPEC.parse(raw)
