"""``timer`` source: a message on a fixed interval or a cron schedule.

Ticks are made when the runtime pulls, never queued: when the runtime was busy past one or
more scheduled times, a single tick is produced at once for the latest of them and the
skipped ones are counted in its ``timer.missed`` header (and logged). An ``interval`` timer
fires its first tick as soon as it starts and then on a fixed grid from that moment; a
``cron`` timer fires at the next matching time in its ``timezone``.

A tick cannot be asked for again, so the runtime journals it before it runs (as it does an
HTTP request answered 202): a tick that a crash or a stop past the shutdown deadline
interrupted runs again, with its own headers, when the flow starts next. ``resume: false``
leaves such a tick behind (a heartbeat whose late run means nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import Field, field_validator, model_validator

from splice.components.context import Context
from splice.components.interfaces import Delivery, Source
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.message import Message
from splice.types import Duration

__all__ = ["SPEC", "CronSchedule", "IntervalSchedule", "TimerSource", "TimerSourceConfig"]

log = logging.getLogger(__name__)

MAX_COUNTED = 10_000
"""Missed cron ticks are counted up to this many; beyond it the count says 'at least'."""


class TimerSourceConfig(ComponentConfig):
    interval: Duration | None = Field(None, description="Time between ticks, e.g. `30s`.")
    cron: str | None = Field(
        None, description="Cron expression (5 fields, or 6 with seconds last), e.g. `0 9 * * 1-5`."
    )
    body: Any = Field(
        default_factory=dict,
        description="Payload of every tick: text becomes a text body, any other value data.",
    )
    count: int | None = Field(None, ge=1, description="Stop after this many ticks.")
    timezone: str = Field(
        "UTC", description="Time zone of the cron expression, e.g. `Europe/Paris`."
    )
    resume: bool = Field(
        True,
        description="Journal each tick, so that a tick a crash interrupted runs again at start.",
    )

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, expression: str | None) -> str | None:
        if expression is not None and not croniter.is_valid(expression):
            raise ValueError(f"invalid cron expression {expression!r}")
        return expression

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @model_validator(mode="after")
    def _one_schedule(self) -> TimerSourceConfig:
        if (self.interval is None) == (self.cron is None):
            raise ValueError("give exactly one of 'interval' and 'cron'")
        if self.interval is not None and self.interval <= 0:
            raise ValueError("'interval' must be more than zero")
        return self


SPEC = ComponentSpec(
    kind="source",
    name="timer",
    summary="Produce a message on an interval or a cron schedule.",
    config=TimerSourceConfig,
    example="timer: {cron: '0 6 * * 1-5', timezone: Europe/Paris, body: {report: daily}}",
    factory="splice.connectors.timer.source:TimerSource",
    shorthand="interval",
    description=(
        "Each tick carries the headers `timer.fired_at` (ISO-8601, UTC), `timer.sequence` "
        "(1, 2, ...) and `timer.missed` (ticks skipped because the flow was still busy). "
        "Ticks are journaled: one a crash interrupted runs again at start (`resume: false` "
        "to leave it)."
    ),
)


class IntervalSchedule:
    """Ticks at ``start + k * interval``."""

    def __init__(self, interval: float, start: datetime) -> None:
        self._step = timedelta(seconds=interval)
        self.first = start

    def after(self, moment: datetime) -> datetime:
        slots = math.floor((moment - self.first) / self._step) + 1
        return self.first + slots * self._step

    def overdue(self, due: datetime, now: datetime) -> tuple[datetime, int]:
        """The latest tick time not after ``now``, and how many ticks before it were skipped."""
        skipped = math.floor((now - due) / self._step)
        return due + skipped * self._step, skipped


class CronSchedule:
    """Ticks at the times a cron expression matches, in a time zone."""

    def __init__(self, expression: str, timezone: str, start: datetime) -> None:
        self._expression = expression
        self._zone = ZoneInfo(timezone)
        self.first = self.after(start)

    def after(self, moment: datetime) -> datetime:
        following: datetime = croniter(self._expression, moment.astimezone(self._zone)).get_next(
            datetime
        )
        return following.astimezone(UTC)

    def overdue(self, due: datetime, now: datetime) -> tuple[datetime, int]:
        skipped = 0
        following = self.after(due)
        while following <= now and skipped < MAX_COUNTED:
            due, following, skipped = following, self.after(following), skipped + 1
        if following <= now:
            due = now
        return due, skipped


class TimerSource(Source):
    def __init__(self, config: TimerSourceConfig, context: Context) -> None:
        self._config = config
        self._closed = asyncio.Event()

    def _schedule(self) -> IntervalSchedule | CronSchedule:
        now = datetime.now(UTC)
        if self._config.cron is not None:
            return CronSchedule(self._config.cron, self._config.timezone, now)
        assert self._config.interval is not None
        return IntervalSchedule(self._config.interval, now)

    async def deliveries(self) -> AsyncIterator[Delivery]:
        schedule = self._schedule()
        due, sequence = schedule.first, 0
        while self._config.count is None or sequence < self._config.count:
            if not await self._sleep_until(due):
                return
            due, missed = schedule.overdue(due, datetime.now(UTC))
            if missed:
                log.warning("timer skipped %d tick(s): the flow was still busy", missed)
            sequence += 1
            yield self._delivery(self._tick(sequence, missed))
            due = schedule.after(due)

    async def _sleep_until(self, due: datetime) -> bool:
        """Wait for ``due``; False when closed first."""
        while not self._closed.is_set():
            remaining = (due - datetime.now(UTC)).total_seconds()
            if remaining <= 0:
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), remaining)
        return False

    def _tick(self, sequence: int, missed: int) -> Message:
        body = self._config.body
        headers = {
            "timer.fired_at": datetime.now(UTC).isoformat(),
            "timer.sequence": str(sequence),
            "timer.missed": str(missed),
        }
        if isinstance(body, str):
            return Message(body.encode(), headers, content_type="text/plain")
        return Message(copy.deepcopy(body), headers, content_type="application/json")

    def _delivery(self, tick: Message) -> Delivery:
        """The tick, journaled unless ``resume`` is off; a tick the flow could not finish
        (and did not dead-letter) is logged, saying whether it runs again at start."""
        journaled = False

        async def accept() -> None:
            nonlocal journaled
            journaled = True

        async def nack(error: BaseException) -> None:
            fate = "it runs again when the flow starts next" if journaled else "it is skipped"
            log.warning(
                "timer tick %s (%s) did not finish: %s; %s",
                tick.headers["timer.sequence"],
                tick.headers["timer.fired_at"],
                error,
                fate,
            )

        return Delivery(tick, nack=nack, accept=accept if self._config.resume else None)

    async def close(self) -> None:
        self._closed.set()
