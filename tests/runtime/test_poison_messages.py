"""A step crashes on one message: quarantined after ``quarantine_after`` tries; the flow goes on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.testing import MemorySource, RecordingSink, Settlement
from splice.connectors.file.source import FileSource, FileSourceConfig
from splice.message import Message
from splice.runtime.flow import FlowRunner
from splice.runtime.pipeline import BoundSink, BoundStep, Pipeline
from splice.runtime.policies import OnError
from splice.store import Store
from tests.runtime.engine_harness import eventually


class CrashOnPoison(Step):
    """A bug: a plain exception on the one message whose body says ``poison``."""

    def __init__(self) -> None:
        self.calls = 0

    async def process(self, message: Message) -> list[Message]:
        self.calls += 1
        if b"poison" in bytes(message.body):
            raise RuntimeError("boom: cannot handle this one")
        return [message]


class RedeliveringSource(MemorySource):
    """Like a broker: a nacked message comes back, with the same id."""

    def _nacker(self, message: Message) -> Callable[[BaseException], Awaitable[None]]:
        async def nack(error: BaseException) -> None:
            self._settle(Settlement(message, False, error=error))
            self.put(message)

        return nack


def runner(source: MemorySource | FileSource, sink: RecordingSink, store: Store) -> FlowRunner:
    pipeline = Pipeline(
        "orders",
        [BoundStep("steps[0].crash", CrashOnPoison())],
        [BoundSink("out", "sinks.out", sink)],
    )
    return FlowRunner(
        "orders",
        "v1",
        source,
        "source",
        pipeline,
        4,
        policy=OnError(quarantine_after=3),
        store=store,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    yield opened
    await opened.close()


async def test_a_crashing_message_is_quarantined_and_the_flow_goes_on(store: Store) -> None:
    messages = [Message(b"a"), Message(b"poison"), Message(b"b"), Message(b"c")]
    source, sink = RedeliveringSource(messages), RecordingSink()
    flow = runner(source, sink, store)
    await flow.open_components()
    await flow.start_source()
    try:

        async def quarantined() -> bool:
            return await store.dead_letters.count("orders") == 1

        await eventually(quarantined)
        await eventually(lambda: len(sink.received) == 3)
    finally:
        await flow.stop(1.0)

    [letter] = await store.dead_letters.list("orders")
    assert (letter.error_class, letter.error_code) == ("quarantined", "internal")
    assert letter.message().body == b"poison"
    assert letter.message_id == messages[1].id
    poison = [s for s in source.settlements if s.message.id == messages[1].id]
    assert [s.acked for s in poison] == [False, False, True]  # nacked twice, then settled
    assert sorted(m.body for m in sink.received) == [b"a", b"b", b"c"]
    assert flow.counts["dead_lettered"] == 1


async def test_a_crashing_file_is_quarantined(tmp_path: Path, store: Store) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "poison.txt").write_bytes(b"poison")
    source = FileSource(FileSourceConfig(path="inbox", poll_interval=0.01), Context(tmp_path, "f"))
    flow = runner(source, RecordingSink(), store)
    await flow.open_components()
    await flow.start_source()
    try:

        async def quarantined() -> bool:
            return await store.dead_letters.count("orders") == 1

        await eventually(quarantined, timeout=3.0)
    finally:
        await flow.stop(1.0)
