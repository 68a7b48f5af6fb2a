"""A request-reply flow whose pipeline never waits runs a request in the request's own task.

``FlowRunner.offer`` takes a delivery at once when the pipeline is synchronous (every step
has ``process_sync``, no sink, no idempotency hook), the message needs no journal and a
place is free; otherwise it does nothing and the source queues the delivery for the pump.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from splice.components.interfaces import Delivery, Step
from splice.components.testing import MemorySource, RecordingSink
from splice.connectors.http.source import HttpSource
from splice.errors import MessageError
from splice.message import Message
from splice.runtime.flow import FlowRunner
from splice.runtime.pipeline import BoundSink, BoundStep, Pipeline
from tests.runtime.engine_harness import eventually, start, write


class Upper(Step):
    """Upper-cases a text body; refuses one that says 'bad'."""

    async def process(self, message: Message) -> list[Message]:
        return self.process_sync(message)

    def process_sync(self, message: Message) -> list[Message]:
        if message.body == "bad":
            raise MessageError("bad body", code="bad")
        return [message.replace_body(str(message.body).upper(), None)]


class Waits(Step):
    """A step with no process_sync: its pipeline may wait."""

    async def process(self, message: Message) -> list[Message]:
        return [message]


class Settled:
    def __init__(self) -> None:
        self.acked: list[Sequence[Message]] = []
        self.nacked: list[BaseException] = []

    def delivery(self, body: str, *, journal: bool = False) -> Delivery:
        async def ack(outputs: Sequence[Message]) -> None:
            self.acked.append(outputs)

        async def nack(error: BaseException) -> None:
            self.nacked.append(error)

        async def accept() -> None:
            pass

        return Delivery(
            Message(body), ack, nack, accept=accept if journal else None, caller_waits=True
        )


async def runner(
    steps: list[Step], sinks: Sequence[BoundSink] = (), in_flight: int = 4
) -> FlowRunner:
    pipeline = Pipeline("f", [BoundStep(f"steps[{i}]", s) for i, s in enumerate(steps)], sinks)
    flow = FlowRunner("f", "v1", MemorySource([]), "source.memory", pipeline, in_flight)
    await flow.open_components()
    return flow


async def test_a_synchronous_pipeline_settles_the_delivery_before_offer_returns() -> None:
    flow = await runner([Upper()])
    settled = Settled()
    assert await flow.offer(settled.delivery("hello"))
    assert [[m.body for m in outputs] for outputs in settled.acked] == [["HELLO"]]
    assert flow.counts["received"] == flow.counts["acked"] == 1
    assert flow._slots.free == 4


async def test_a_failure_is_settled_in_a_task_of_its_own_and_frees_its_place() -> None:
    flow = await runner([Upper()])
    settled = Settled()
    assert await flow.offer(settled.delivery("bad"))
    assert settled.nacked == []  # not yet: the caller does not wait for the failure handling
    await eventually(lambda: len(settled.nacked) == 1)
    assert "bad body" in str(settled.nacked[0])
    await eventually(lambda: flow._slots.free == 4)
    assert flow.counts["nacked"] == 1


@pytest.mark.parametrize("case", ["a sink", "a step that may wait", "a journal", "no free place"])
async def test_anything_that_may_wait_is_left_to_the_pump(case: str) -> None:
    settled = Settled()
    journal = case == "a journal"
    if case == "a sink":
        flow = await runner([Upper()], [BoundSink("out", "sinks.out", RecordingSink())])
    elif case == "a step that may wait":
        flow = await runner([Upper(), Waits()])
    else:
        flow = await runner([Upper()], in_flight=0 if case == "no free place" else 4)
    assert not await flow.offer(settled.delivery("hello", journal=journal))
    assert not settled.acked
    assert not settled.nacked
    assert flow.counts["received"] == 0


FLOW = """
integration: shout
owner: tests
source:
  http: {path: /shout, method: POST, reply: sync}
steps:
  - decode: json
  - validate: {schema: schemas/word.json}
  - map: '{"word": $uppercase(word)}'
"""


async def test_http_requests_of_a_synchronous_flow_are_answered_in_their_own_task(
    tmp_path: Path,
) -> None:
    root = write(
        tmp_path,
        {
            "splice.yaml": "project: t\nhttp: {host: 127.0.0.1, port: 0}\n",
            "flows/shout.yaml": FLOW,
            "schemas/word.json": '{"type": "object", "required": ["word"]}',
        },
    )
    engine = await start(root)
    flow = engine.flows["shout"]
    pumped: list[Delivery] = []
    handle = flow._handle

    async def counted(delivery: Delivery) -> None:
        pumped.append(delivery)
        await handle(delivery)

    flow._handle = counted  # type: ignore[method-assign]
    try:
        source = flow.source
        assert isinstance(source, HttpSource)
        url = f"http://127.0.0.1:{source.server.port}/shout"
        async with httpx.AsyncClient() as client:
            replies = await asyncio.gather(
                *(client.post(url, json={"word": f"w{i}"}) for i in range(20)),
                client.post(url, json={"nope": 1}),
            )
        assert [r.json() for r in replies[:20]] == [{"word": f"W{i}"} for i in range(20)]
        assert replies[20].status_code == 400
        assert all(r.headers["x-message-id"] for r in replies)
        assert pumped == []  # none went through the pump and a task of its own
        assert flow.counts["received"] == 21
        assert flow.counts["acked"] == 20
    finally:
        await engine.stop()
