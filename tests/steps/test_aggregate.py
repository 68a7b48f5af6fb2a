"""The aggregate step on a real SQLite store: size, when, combine, timeout, restart, late."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from splice.components.context import Context
from splice.errors import ConfigError, MessageError
from splice.message import Message
from splice.steps.aggregate import SPEC, AggregateStep
from splice.store import Store
from tests.runtime.engine_harness import eventually


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    yield opened
    await opened.close()


def _step(raw: dict[str, object], tmp_path: Path, store: Store | None) -> AggregateStep:
    config = SPEC.parse(raw, context={"sink_names": ["late-ones"]})
    context = Context(tmp_path, "orders", component="steps[1].aggregate", store=store)
    step = SPEC.build(config, context)
    assert isinstance(step, AggregateStep)
    return step


async def test_group_completes_at_size_with_the_list_of_bodies(
    tmp_path: Path, store: Store
) -> None:
    step = _step({"key": "order", "size": 2}, tmp_path, store)
    await step.open()
    assert await step.process(Message({"order": "A", "n": 1})) == []
    assert await step.process(Message({"order": "B", "n": 9})) == []
    [out] = await step.process(Message({"order": "A", "n": 2}))
    assert out.body == [{"order": "A", "n": 1}, {"order": "A", "n": 2}]
    assert out.correlation_id == "A"
    assert out.headers["aggregate.completed_by"] == "size"
    await step.close()


async def test_when_predicate_and_combine_over_messages(tmp_path: Path, store: Store) -> None:
    raw = {"header": "batch", "when": "$sum($messages.n) >= 5", "combine": "$sum($messages.n)"}
    step = _step(raw, tmp_path, store)
    await step.open()
    assert await step.process(Message({"n": 2}, headers={"batch": "b1"})) == []
    [out] = await step.process(Message({"n": 3}, headers={"batch": "b1"}))
    assert out.body == 5
    await step.close()


async def test_group_survives_a_restart_on_a_reopened_store(tmp_path: Path) -> None:
    first_store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    first = _step({"key": "order", "size": 2}, tmp_path, first_store)
    await first.open()
    assert await first.process(Message({"order": "A", "n": 1})) == []
    await first.close()
    await first_store.close()

    second_store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    second = _step({"key": "order", "size": 2}, tmp_path, second_store)
    await second.open()
    [out] = await second.process(Message({"order": "A", "n": 2}))
    assert [body["n"] for body in out.body] == [1, 2]
    await second.close()
    await second_store.close()


async def test_timeout_emits_through_the_emitter(tmp_path: Path, store: Store) -> None:
    emitted: list[Message] = []
    done = asyncio.Event()

    async def emitter(messages: list[Message]) -> None:
        emitted.extend(messages)
        done.set()

    step = _step({"key": "order", "size": 10, "timeout": "100ms"}, tmp_path, store)
    step.emitter = emitter
    await step.open()
    await step.process(Message({"order": "A"}))
    await asyncio.wait_for(done.wait(), 5)
    assert emitted[0].body == [{"order": "A"}]
    assert emitted[0].headers["aggregate.completed_by"] == "timeout"

    async def group_deleted() -> bool:  # the step deletes the group once the emitter returned
        return await store.aggregations.open_groups("orders/steps[1].aggregate") == []

    await eventually(group_deleted, 5)
    await step.close()


async def test_timeout_is_rearmed_after_a_restart(tmp_path: Path) -> None:
    first_store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    first = _step({"key": "order", "timeout": "200ms"}, tmp_path, first_store)
    await first.open()
    await first.process(Message({"order": "A"}))
    await first.close()  # the timer dies with the process
    await first_store.close()

    second_store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    second = _step({"key": "order", "timeout": "200ms"}, tmp_path, second_store)
    emitted: asyncio.Queue[list[Message]] = asyncio.Queue()
    second.emitter = emitted.put
    await second.open()
    [out] = await asyncio.wait_for(emitted.get(), 5)
    assert out.body == [{"order": "A"}]
    await second.close()
    await second_store.close()


async def test_failed_emit_keeps_the_group(tmp_path: Path, store: Store) -> None:
    calls = 0

    async def failing(messages: list[Message]) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("sink down")

    step = _step({"key": "order", "timeout": "50ms"}, tmp_path, store)
    step.emitter = failing
    await step.open()
    await step.process(Message({"order": "A"}))
    while calls < 2:
        await asyncio.sleep(0.02)
    await step.close()
    [group] = await store.aggregations.open_groups("orders/steps[1].aggregate")
    assert group.message_count == 1


async def test_late_arrivals_dead_letter_drop_or_route(tmp_path: Path, store: Store) -> None:
    for late, expected in (("dead_letter", None), ("drop", []), ("route:late-ones", 1)):
        step = _step({"key": "order", "size": 1, "late": late}, tmp_path, store)
        await step.open()
        await step.process(Message({"order": f"{late}"}))
        if expected is None:
            with pytest.raises(MessageError) as caught:
                await step.process(Message({"order": f"{late}"}))
            assert caught.value.code == "late-arrival"
        elif expected == []:
            assert await step.process(Message({"order": late})) == []
        else:
            [out] = await step.process(Message({"order": late}))
            assert out.targets == ("late-ones",)
        assert step.stats()["late"] == 1
        await step.close()


def test_config_needs_a_key_and_a_completion() -> None:
    with pytest.raises(ValidationError, match="exactly one of 'key' and 'header'"):
        SPEC.parse({"size": 2})
    with pytest.raises(ValidationError, match="at least one completion"):
        SPEC.parse({"key": "a"})
    with pytest.raises(ValidationError, match="unknown sink"):
        SPEC.parse({"key": "a", "size": 2, "late": "route:nowhere"}, context={"sink_names": []})


async def test_without_a_store_open_fails(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs the state store"):
        await _step({"key": "a", "size": 2}, tmp_path, None).open()


async def test_a_group_complete_before_a_crash_is_delivered_at_the_next_open(
    tmp_path: Path, store: Store
) -> None:
    crashed = _step({"key": "order", "size": 2}, tmp_path, store)
    emitted: list[Message] = []

    async def never_reached(messages: list[Message]) -> None:
        raise asyncio.CancelledError  # the process dies while delivering

    crashed.emitter = never_reached
    await crashed.open()
    assert await crashed.process(Message({"order": "A", "n": 1})) == []
    assert await crashed.process(Message({"order": "A", "n": 2})) == []
    await crashed.close()

    async def emit(messages: list[Message]) -> None:
        emitted.extend(messages)

    restarted = _step({"key": "order", "size": 2}, tmp_path, store)
    restarted.emitter = emit
    await restarted.open()
    await eventually(lambda: bool(emitted))
    await restarted.close()
    [out] = emitted
    assert out.body == [{"order": "A", "n": 1}, {"order": "A", "n": 2}]
    assert out.headers["aggregate.completed_by"] == "size"
    assert await store.aggregations.open_groups("orders/steps[1].aggregate") == []


async def test_a_failed_delivery_keeps_the_group_and_tries_again(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("splice.steps.aggregate.RETRY_DELAY", 0.05)
    step = _step({"key": "order", "size": 2}, tmp_path, store)
    tries: list[list[Message]] = []

    async def flaky(messages: list[Message]) -> None:
        tries.append(messages)
        if len(tries) == 1:
            raise ConnectionError("receiver down")

    step.emitter = flaky
    await step.open()
    await step.process(Message({"order": "A", "n": 1}))
    await step.process(Message({"order": "A", "n": 2}))
    await eventually(lambda: len(tries) == 2)
    await eventually(
        lambda: _no_groups(store, "orders/steps[1].aggregate"),
    )
    await step.close()
    assert tries[0][0].body == tries[1][0].body == [{"order": "A", "n": 1}, {"order": "A", "n": 2}]


async def _no_groups(store: Store, scope: str) -> bool:
    return await store.aggregations.open_groups(scope) == []


def test_late_reopen_is_a_choice(tmp_path: Path) -> None:
    config = SPEC.parse({"key": '"all"', "size": 100, "late": "reopen"})
    assert config.late == "reopen"
    with pytest.raises(ValidationError, match="'reopen'"):
        SPEC.parse({"key": '"all"', "size": 100, "late": "again"})


async def test_close_lets_a_delivery_under_way_finish_and_leave_the_store(
    tmp_path: Path, store: Store
) -> None:
    step = _step({"key": "order", "size": 1}, tmp_path, store)
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_sink(messages: list[Message]) -> None:
        entered.set()
        await release.wait()

    step.emitter = slow_sink
    await step.open()
    await step.process(Message({"order": "A"}))
    await asyncio.wait_for(entered.wait(), 10)
    closing = asyncio.create_task(step.close())
    await asyncio.sleep(0)
    assert not closing.done(), "close waits for the delivery under way"
    release.set()
    await asyncio.wait_for(closing, 10)
    assert await store.aggregations.open_groups("orders/steps[1].aggregate") == []
