"""The dedupe step on a real SQLite store: duplicates dropped and counted, release, no store."""

from __future__ import annotations

from pathlib import Path

import pytest

from splice.components.context import Context
from splice.errors import ConfigError, MessageError
from splice.message import Message
from splice.steps.dedupe import SPEC, DedupeStep
from splice.store import Store


def _step(raw: object, tmp_path: Path, store: Store | None, flow: str = "orders") -> DedupeStep:
    context = Context(tmp_path, flow, component="steps[0].dedupe", store=store)
    step = SPEC.build(SPEC.parse(raw), context)
    assert isinstance(step, DedupeStep)
    return step


async def test_duplicates_are_dropped_across_two_instances(tmp_path: Path) -> None:
    store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    try:
        first, second = _step("orderId", tmp_path, store), _step("orderId", tmp_path, store)
        await first.open()
        assert len(await first.process(Message({"orderId": 1}))) == 1
        assert await second.process(Message({"orderId": 1.0})) == []
        assert await first.process(Message({"orderId": 1})) == []
        assert len(await second.process(Message({"orderId": 2}))) == 1
        assert first.stats() == {"passed": 1, "duplicates": 1}
        assert second.stats() == {"passed": 1, "duplicates": 1}
    finally:
        await store.close()


async def test_release_lets_the_redelivery_pass(tmp_path: Path) -> None:
    store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    try:
        step = _step({"key": "orderId", "ttl": "1h"}, tmp_path, store)
        [passed] = await step.process(Message({"orderId": "A"}))
        await step.release(passed.derive(passed.body))  # the sink failed
        assert len(await step.process(Message({"orderId": "A"}))) == 1
    finally:
        await store.close()


async def test_scope_separates_flows_unless_shared(tmp_path: Path) -> None:
    store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    try:
        assert await _step("id", tmp_path, store, "a").process(Message({"id": 1}))
        assert await _step("id", tmp_path, store, "b").process(Message({"id": 1}))
        shared = {"key": "id", "scope": "payments"}
        assert await _step(shared, tmp_path, store, "a").process(Message({"id": 1}))
        assert not await _step(shared, tmp_path, store, "b").process(Message({"id": 1}))
    finally:
        await store.close()


async def test_missing_key_is_a_message_error(tmp_path: Path) -> None:
    store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    try:
        with pytest.raises(MessageError) as caught:
            await _step("orderId", tmp_path, store).process(Message({}))
        assert caught.value.code == "dedupe-no-key"
    finally:
        await store.close()


async def test_without_a_store_open_fails(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="dedupe needs the state store"):
        await _step("orderId", tmp_path, None).open()
