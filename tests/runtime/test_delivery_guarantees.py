"""The runtime's delivery guarantees: ack after every sink, backpressure, drain."""

from __future__ import annotations

import asyncio

import pytest

from splice.components.interfaces import Step
from splice.components.testing import MemorySource, RecordingSink
from splice.errors import ContractViolation, TransientError
from splice.message import Message
from splice.runtime.flow import FlowRunner
from splice.runtime.pipeline import BoundSink, BoundStep, Pipeline


class Double(Step):
    async def process(self, message: Message) -> list[Message]:
        return [message, message.derive(message.body)]


class Reject(Step):
    async def process(self, message: Message) -> list[Message]:
        raise ContractViolation([("/qty", "must be positive")])


def runner(
    source: MemorySource,
    sinks: dict[str, RecordingSink],
    steps: list[Step] | None = None,
    max_in_flight: int = 8,
) -> FlowRunner:
    pipeline = Pipeline(
        "orders",
        [BoundStep(f"steps[{i}]", step) for i, step in enumerate(steps or [])],
        [BoundSink(name, f"sinks.{name}", sink) for name, sink in sinks.items()],
    )
    return FlowRunner("orders", "v1", source, "source.memory", pipeline, max_in_flight)


async def start(flow: FlowRunner) -> FlowRunner:
    await flow.open_components()
    await flow.start_source()
    return flow


async def test_delivery_is_acked_only_after_every_sink_confirmed() -> None:
    source = MemorySource([Message(b"1")])
    fast, slow = RecordingSink(), RecordingSink()
    slow.gate = asyncio.Event()
    flow = await start(runner(source, {"fast": fast, "slow": slow}))
    while slow.waiting == 0:
        await asyncio.sleep(0.01)
    assert fast.received and not source.settlements
    slow.gate.set()
    [settlement] = await source.wait_settled(1)
    assert settlement.acked and [m.body for m in settlement.outputs] == [b"1"]
    assert [hop.component for hop in settlement.message.lineage] == [
        "source.memory",
        "sinks.fast",
        "sinks.slow",
    ]
    await flow.stop(1.0)


async def test_a_failing_sink_leaves_the_delivery_unacked() -> None:
    source = MemorySource([Message(b"1")])
    good, bad = RecordingSink(), RecordingSink()
    bad.fail_with = TransientError("broker unavailable")
    flow = await start(runner(source, {"good": good, "bad": bad}))
    [settlement] = await source.wait_settled(1)
    assert not settlement.acked
    assert isinstance(settlement.error, TransientError)
    assert "flow 'orders', sinks.bad: broker unavailable" in str(settlement.error)
    await flow.stop(1.0)


async def test_a_bad_message_is_nacked_with_the_step_that_refused_it() -> None:
    source = MemorySource([Message({"qty": -1})])
    sink = RecordingSink()
    flow = await start(runner(source, {"out": sink}, [Reject()]))
    [settlement] = await source.wait_settled(1)
    error = settlement.error
    assert isinstance(error, ContractViolation)
    assert error.step == "steps[0]" and error.message_id == settlement.message.id
    assert sink.received == []
    await flow.stop(1.0)


async def test_a_step_may_produce_many_messages_and_all_reach_the_sink() -> None:
    source = MemorySource([Message(b"x")])
    sink = RecordingSink()
    flow = await start(runner(source, {"out": sink}, [Double()]))
    [settlement] = await source.wait_settled(1)
    assert settlement.acked and len(sink.received) == 2
    assert len({m.correlation_id for m in sink.received}) == 1
    await flow.stop(1.0)


@pytest.mark.parametrize("limit", [1, 4])
async def test_a_slow_sink_bounds_what_is_pulled_from_the_source(limit: int) -> None:
    source = MemorySource([Message(str(i).encode()) for i in range(50)])
    sink = RecordingSink()
    sink.gate = asyncio.Event()
    flow = await start(runner(source, {"out": sink}, max_in_flight=limit))
    while sink.waiting < limit:
        await asyncio.sleep(0.01)
    for _ in range(20):
        await asyncio.sleep(0)
    assert source.pulled == limit
    assert flow.in_flight == limit
    sink.gate.set()
    await source.wait_settled(50)
    assert len(sink.received) == 50
    await flow.stop(1.0)


async def test_stop_drains_in_flight_messages_before_closing_sinks() -> None:
    source = MemorySource([Message(b"a"), Message(b"b")])
    sink = RecordingSink()
    sink.gate = asyncio.Event()
    flow = await start(runner(source, {"out": sink}))
    while sink.waiting < 2:
        await asyncio.sleep(0.01)
    stopping = asyncio.create_task(flow.stop(5.0))
    await asyncio.sleep(0.05)
    assert not sink.closed and not stopping.done()
    sink.gate.set()
    await stopping
    assert [s.acked for s in source.settlements] == [True, True]
    assert sink.closed


async def test_messages_unfinished_at_the_deadline_are_nacked_not_lost() -> None:
    source = MemorySource([Message(b"a")])
    sink = RecordingSink()
    sink.gate = asyncio.Event()
    flow = await start(runner(source, {"out": sink}))
    while sink.waiting < 1:
        await asyncio.sleep(0.01)
    await flow.stop(0.05)
    [settlement] = source.settlements
    assert not settlement.acked and isinstance(settlement.error, TimeoutError)
