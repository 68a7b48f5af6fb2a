"""A flow's steps, built as the engine builds them, between given inputs and recording sinks.

The source is never built and the sinks are never opened: every sink is replaced by a
:class:`~splice.components.testing.RecordingSink`. A failed input becomes a
:class:`DeadLetter` classified as the runtime's ``FailureHandler`` classifies it.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from splice.components.context import Context, SharedResources
from splice.components.interfaces import Step
from splice.components.testing import RecordingSink
from splice.config import FlowSpec, Project
from splice.errors import SpliceError
from splice.flowtest._models import InputSpec
from splice.message import Message
from splice.runtime.engine import guarded_step
from splice.runtime.pipeline import BoundSink, BoundStep, Pipeline
from splice.secrets import mask
from splice.store import Store

__all__ = ["DeadLetter", "FlowHarness", "Outcome", "input_message"]

_TYPES = {".json": "application/json", ".xml": "application/xml", ".csv": "text/csv"}


@dataclass(frozen=True)
class DeadLetter:
    """One failed input, as the dead-letter queue would record it."""

    input: int
    step: str
    code: str
    reason: str
    error: BaseException

    @property
    def unhandled(self) -> bool:
        """A crash (a bug), not a clean codec, validation, mapping or routing error."""
        return not isinstance(self.error, SpliceError)


@dataclass
class Outcome:
    """What a run of inputs gave: each sink's messages, in order, and the failures."""

    delivered: dict[str, list[Message]] = field(default_factory=dict)
    dead_letters: list[DeadLetter] = field(default_factory=list)

    @property
    def routed(self) -> list[str]:
        return [name for name, messages in self.delivered.items() if messages]


class _Traced(Step):
    """Remembers which step a crash (an error outside the splice tree) escaped from."""

    def __init__(self, inner: Step, path: str, crashes: dict[int, str]) -> None:
        self.inner, self.path, self.crashes = inner, path, crashes

    async def open(self) -> None:
        await self.inner.open()

    async def process(self, message: Message) -> list[Message]:
        try:
            return await self.inner.process(message)
        except SpliceError:
            raise
        except Exception as error:
            self.crashes.setdefault(id(error), self.path)
            raise

    async def close(self) -> None:
        await self.inner.close()


class FlowHarness:
    """One flow's pipeline with recording sinks; ``run`` feeds it messages."""

    def __init__(self, project: Project, spec: FlowSpec, store: Store | None = None) -> None:
        context = Context(
            project.dir,
            spec.name,
            project.settings,
            SharedResources(),
            store=store,
            version=spec.version,
        )
        self._crashes: dict[int, str] = {}
        self.steps = [
            BoundStep(ref.path, _Traced(guarded_step(spec, ref, context), ref.path, self._crashes))
            for ref in spec.steps
        ]
        self.sinks = {name: RecordingSink() for name in spec.sinks}
        bound = [BoundSink(name, ref.path, self.sinks[name]) for name, ref in spec.sinks.items()]
        self.pipeline = Pipeline(spec.name, self.steps, bound)

    async def open(self) -> None:
        for bound in self.steps:
            await bound.step.open()

    async def close(self) -> None:
        for bound in self.steps:
            await bound.step.close()

    async def run(self, messages: Sequence[Message]) -> Outcome:
        """Run each message through the pipeline; nothing raised escapes."""
        for sink in self.sinks.values():
            sink.received.clear()
        outcome = Outcome()
        for index, message in enumerate(messages):
            try:
                await self.pipeline.run(message)
            except Exception as error:
                outcome.dead_letters.append(self._dead_letter(index, error))
        outcome.delivered = {name: list(sink.received) for name, sink in self.sinks.items()}
        return outcome

    def _dead_letter(self, index: int, error: Exception) -> DeadLetter:
        step = getattr(error, "component", None) or self._crashes.pop(id(error), "")
        code = error.code if isinstance(error, SpliceError) else "internal"
        return DeadLetter(index, step, code, mask(str(error)), error)


def input_message(spec: InputSpec, project_dir: Path) -> Message:
    """The message a test input stands for: bytes with a content type."""
    if spec.body_file is not None:
        path = project_dir / spec.body_file
        body = path.read_bytes()
        guessed = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
        content_type = guessed or "application/octet-stream"
    else:
        body, content_type = _encode(spec.body)
    return Message(
        body=body, headers=dict(spec.headers), content_type=spec.content_type or content_type
    )


def _encode(body: Any) -> tuple[bytes, str]:
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return orjson.dumps(body), "application/json"
