"""Files through a channel between two running flows: the inbox is confirmed end to end."""

from __future__ import annotations

import asyncio
from pathlib import Path

from splice.components.context import Context, SharedResources
from splice.components.interfaces import Step
from splice.components.registry import get
from splice.errors import ContractViolation
from splice.message import Message
from splice.runtime.flow import FlowRunner
from splice.runtime.pipeline import BoundSink, BoundStep, Pipeline


class RefuseRejects(Step):
    async def process(self, message: Message) -> list[Message]:
        if message.body.startswith(b"reject"):
            raise ContractViolation([("/", "rejected")])
        return [message]


def flow(
    context: Context, name: str, source: object, sink: object, steps: list[Step] | None = None
) -> FlowRunner:
    source_name, source_raw = next(iter(source.items()))  # type: ignore[attr-defined]
    sink_name, sink_raw = next(iter(sink.items()))  # type: ignore[attr-defined]
    source_spec, sink_spec = get("source", source_name), get("sink", sink_name)
    here = context.at(name)
    pipeline = Pipeline(
        name,
        [BoundStep(f"steps[{i}]", step) for i, step in enumerate(steps or [])],
        [BoundSink("out", "sinks.out", sink_spec.build(sink_spec.parse(sink_raw), here))],
    )
    built = source_spec.build(source_spec.parse(source_raw), here)
    return FlowRunner(name, "v1", built, f"source.{source_name}", pipeline, 4)


async def test_a_file_is_done_only_once_the_subscribing_flow_wrote_it(tmp_path: Path) -> None:
    shared = SharedResources()
    intake_context = Context(project_dir=tmp_path, flow="intake", shared=shared)
    audit_context = Context(project_dir=tmp_path, flow="audit", shared=shared)
    audit = flow(
        audit_context,
        "audit",
        {"channel": "orders"},
        {"file": {"path": "audit", "name": "orders.txt", "mode": "append"}},
        [RefuseRejects()],
    )
    intake = flow(
        intake_context,
        "intake",
        {"file": {"path": "inbox", "poll_interval": "20ms"}},
        {"channel": "orders"},
    )
    (tmp_path / "inbox").mkdir()
    for name, body in [("a.txt", b"first"), ("b.txt", b"reject me"), ("c.txt", b"second")]:
        (tmp_path / "inbox" / name).write_bytes(body)

    for runner in (audit, intake):
        await runner.open_components()
        await runner.start_source()

    async def until_settled() -> None:
        while intake.counts["acked"] < 2 or intake.counts["nacked"] < 1:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(until_settled(), 20)
    for runner in (intake, audit):
        await runner.stop(5)

    assert (tmp_path / "audit" / "orders.txt").read_bytes() == b"first\nsecond\n"
    assert sorted(p.name for p in (tmp_path / "inbox" / "done").iterdir()) == ["a.txt", "c.txt"]
    kept = [p.name for p in (tmp_path / "inbox").rglob("b*.txt")]
    assert kept == ["b.txt"]  # refused downstream: the publisher's nack keeps the file
