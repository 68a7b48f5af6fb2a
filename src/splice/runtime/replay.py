"""Replaying dead letters into the current version of their flow.

A replay builds the flow from the project exactly as the engine does
(:func:`~splice.runtime.engine.build_flow`: every sink under its retry policy and breaker,
every step under its timeout) and runs the dead message through its
:class:`~splice.runtime.pipeline.Pipeline`. The flow's source is never opened: a replay
re-injects the message after the source, so nothing else flows in meanwhile.

- success: the dead letter is marked replayed (its replay count goes up by one);
- failure: idempotency keys the steps claimed for the message are released (as the engine
  does for a failed delivery) and the dead letter's record is updated through the queue's
  ``add`` (same flow and message id), with the new error and the attempts appended to its
  history.

Idempotency still applies: ``dedupe`` steps claim their keys in the same store. Every
replay is logged with who asked for it. No command-line code here: the console and the
admin API reuse this module.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from splice.config import Project
from splice.errors import SpliceError
from splice.message import Message
from splice.runtime.engine import Engine, build_flow
from splice.runtime.flow import FlowRunner
from splice.runtime.retry import attempts_of
from splice.secrets import mask
from splice.store import DeadLetter, Store

__all__ = ["ReplayResult", "Replayer", "replaying"]

log = logging.getLogger("splice.runtime.replay")


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """How one replay ended: ``ok``, or the (masked) error that stopped it."""

    id: str
    flow: str
    ok: bool
    error: str = ""

    def line(self) -> str:
        if self.ok:
            return f"replayed {self.id} ({self.flow})"
        return f"failed {self.id} ({self.flow}): {self.error}"


class Replayer:
    """Replays dead letters of one project; open with :func:`replaying`.

    Each flow is built (and its steps and sinks opened) once, on its first replay, and
    closed by :meth:`close`.
    """

    def __init__(self, project: Project, store: Store, *, user: str) -> None:
        self.project = project
        self.store = store
        self.user = user
        self._engine = Engine(project, store=store)
        self._flows: dict[str, FlowRunner] = {}

    async def replay(self, letter: DeadLetter) -> ReplayResult:
        """Run ``letter``'s message through its flow's current version."""
        if letter.status == "purged":
            return ReplayResult(letter.id, letter.flow, False, "purged (its payload is gone)")
        spec = self.project.flows.get(letter.flow)
        if spec is None:
            return ReplayResult(letter.id, letter.flow, False, "the flow is no longer defined")
        runner = await self._runner(letter.flow)
        message = letter.message()
        try:
            await runner.pipeline.run(message)
        except Exception as error:
            await _release(runner, message)
            await self._record_failure(letter, spec.version, error)
            return ReplayResult(letter.id, letter.flow, False, _describe(error))
        await runner.pipeline.confirm(message)
        await self.store.dead_letters.mark_replayed(letter.id)
        log.info(
            "dead letter %s replayed into flow '%s' (version %s) by %s",
            letter.id,
            letter.flow,
            spec.version,
            self.user,
        )
        return ReplayResult(letter.id, letter.flow, True)

    async def replay_all(self, letters: Sequence[DeadLetter]) -> list[ReplayResult]:
        return [await self.replay(letter) for letter in letters]

    async def close(self) -> None:
        """Close every flow built for replays, then the engine's shared resources."""
        for runner in self._flows.values():
            for bound_step in runner.pipeline.steps:
                await _close(bound_step.step)
            for bound_sink in runner.pipeline.sinks.values():
                await _close(bound_sink.sink)
        self._flows.clear()
        await self._engine.stop()

    async def _runner(self, flow: str) -> FlowRunner:
        runner = self._flows.get(flow)
        if runner is None:
            spec = self.project.flows[flow]
            context = self._engine.context(spec.name, spec.version)
            runner = build_flow(spec, context, self.store)
            self._flows[flow] = runner
            await runner.open_components()
        return runner

    async def _record_failure(self, letter: DeadLetter, version: str, error: Exception) -> None:
        log.warning(
            "dead letter %s replayed into flow '%s' by %s failed again: %s",
            letter.id,
            letter.flow,
            self.user,
            _describe(error),
        )
        original: Message = letter.message()
        await self.store.dead_letters.add(
            flow=letter.flow,
            flow_version=version,
            step=getattr(error, "component", None) or "",
            error_class=type(error).__name__,
            error_code=error.code if isinstance(error, SpliceError) else "internal",
            error_message=mask(str(error)),
            message=original,
            attempts=[dict(attempt) for attempt in attempts_of(error)],
        )


@asynccontextmanager
async def replaying(project: Project, store: Store, *, user: str) -> AsyncIterator[Replayer]:
    """A :class:`Replayer` whose flows are closed on exit."""
    replayer = Replayer(project, store, user=user)
    try:
        yield replayer
    finally:
        await replayer.close()


def _describe(error: Exception) -> str:
    code = f" [{error.code}]" if isinstance(error, SpliceError) else ""
    return mask(f"{error}{code}") if str(error) else type(error).__name__ + code


async def _release(runner: FlowRunner, message: Message) -> None:
    """Give back the idempotency keys the steps claimed for a message that was not delivered."""
    try:
        await runner.pipeline.release(message)
    except Exception:
        log.exception("flow '%s': releasing idempotency keys after a replay failed", runner.name)


async def _close(component: object) -> None:
    close = getattr(component, "close", None)
    if close is None:
        return
    try:
        await close()
    except Exception:
        log.exception("closing %s after a replay failed", type(component).__name__)
