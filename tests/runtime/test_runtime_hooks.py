"""Runtime hooks of stateful steps: idempotency keys released on failure, timed-out aggregates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from splice.components import registry
from splice.components.context import Context
from splice.components.interfaces import Step
from splice.components.testing import MemorySource, RecordingSink
from splice.errors import TransientError
from splice.message import Message
from splice.runtime.flow import FlowRunner
from splice.runtime.pipeline import BoundSink, BoundStep, Pipeline
from splice.store import Store
from tests.runtime.engine_harness import eventually


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    yield store
    await store.close()


def step(name: str, raw: dict[str, Any], store: Store, tmp_path: Path) -> Step:
    spec = registry.get("step", name)
    context = Context(tmp_path, "orders", store=store, component=f"steps[0].{name}")
    built: Step = spec.build(spec.parse(raw), context)
    return built


async def run(
    source: MemorySource, steps: list[Step], sink: RecordingSink, store: Store
) -> FlowRunner:
    pipeline = Pipeline(
        "orders",
        [BoundStep(f"steps[{i}]", s) for i, s in enumerate(steps)],
        [BoundSink("out", "sinks.out", sink)],
    )
    flow = FlowRunner("orders", "v1", source, "source.memory", pipeline, 4, store=store)
    await flow.open_components()
    await flow.start_source()
    return flow


async def test_a_failed_delivery_releases_its_idempotency_key_so_a_redelivery_passes(
    store: Store, tmp_path: Path
) -> None:
    dedupe = step("dedupe", {"key": "id"}, store, tmp_path)
    sink = RecordingSink()
    sink.fail_with = TransientError("receiver down")
    source = MemorySource([Message({"id": "K-1"})])
    flow = await run(source, [dedupe], sink, store)
    try:
        await source.wait_settled(1)
        assert await store.dead_letters.count("orders") == 1
        sink.fail_with = None
        source.put(Message({"id": "K-1"}))
        settlements = await source.wait_settled(2)
    finally:
        await flow.stop(1.0)
    assert settlements[1].acked
    assert [m.body for m in sink.received] == [{"id": "K-1"}], "the retry was not a duplicate"


async def test_a_group_completed_by_its_timeout_reaches_the_sinks(
    store: Store, tmp_path: Path
) -> None:
    aggregate = step("aggregate", {"key": "order", "size": 10, "timeout": 0.2}, store, tmp_path)
    sink = RecordingSink()
    source = MemorySource([Message({"order": "A", "line": 1}), Message({"order": "A", "line": 2})])
    flow = await run(source, [aggregate], sink, store)
    try:
        await source.wait_settled(2)
        await eventually(lambda: bool(sink.received))
    finally:
        await flow.stop(1.0)
    [combined] = sink.received
    assert combined.body == [{"order": "A", "line": 1}, {"order": "A", "line": 2}]
    assert combined.headers["aggregate.completed_by"] == "timeout"


async def test_a_group_completed_by_size_whose_delivery_fails_is_dead_lettered_whole(
    store: Store, tmp_path: Path
) -> None:
    aggregate = step("aggregate", {"key": "order", "size": 3}, store, tmp_path)
    sink = RecordingSink()
    sink.fail_with = TransientError("the SFTP server refuses writes")
    source = MemorySource([Message({"order": "A", "n": n}) for n in range(3)])
    flow = await run(source, [aggregate], sink, store)
    try:
        settlements = await source.wait_settled(3)
        await eventually(lambda: store.dead_letters.count("orders"))
        await eventually(lambda: _no_groups(store))
    finally:
        await flow.stop(1.0)
    assert all(s.acked for s in settlements), "each message was safe in the store"
    [letter] = await store.dead_letters.list("orders")
    body = letter.message().body
    lines = orjson.loads(body) if isinstance(body, bytes) else body
    assert [line["n"] for line in lines] == [0, 1, 2]


async def _no_groups(store: Store) -> bool:
    return await store.aggregations.open_groups("orders/steps[0].aggregate") == []


async def test_batches_of_a_stream_with_late_reopen(store: Store, tmp_path: Path) -> None:
    raw = {"key": '"all"', "size": 2, "timeout": 0.3, "late": "reopen"}
    aggregate = step("aggregate", raw, store, tmp_path)
    sink = RecordingSink()
    source = MemorySource([Message({"n": n}) for n in range(5)])
    flow = await run(source, [aggregate], sink, store)
    try:
        await source.wait_settled(5)
        await eventually(lambda: sum(len(m.body) for m in sink.received) == 5)
    finally:
        await flow.stop(1.0)
    delivered = sorted(item["n"] for m in sink.received for item in m.body)
    assert delivered == [0, 1, 2, 3, 4]
    assert all(len(m.body) <= 2 for m in sink.received)
    assert [m.headers["aggregate.completed_by"] for m in sink.received].count("size") == 2
