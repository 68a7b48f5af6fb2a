"""Replaying dead letters runs them through the flow's current version, as the engine builds it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from splice.config import load_project
from splice.message import Message
from splice.runtime.replay import ReplayResult, replaying
from splice.runtime.retry import RetryingSink
from splice.store import DeadLetter, Store
from tests.runtime.engine_harness import files, write

SCHEMA = '{"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}'


def flow(sink_folder: str) -> str:
    return f"""
        integration: orders
        source: {{file: {{path: inbox}}}}
        steps:
          - decode: json
          - validate: {{schema: schemas/order.json}}
          - encode: json
        sinks:
          out: {{file: {{path: {sink_folder}}}}}
        on_error: {{retry: {{attempts: 1}}}}
    """


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    write(tmp_path, {"schemas/order.json": SCHEMA, "flows/orders.yaml": flow("out-v1")})
    opened = await Store.open("sqlite:///.splice/state.db", project_dir=tmp_path)
    yield opened
    await opened.close()


async def dead_letter(store: Store, body: bytes, flow: str = "orders") -> DeadLetter:
    letter_id = await store.dead_letters.add(
        flow=flow,
        flow_version="old",
        step="sinks.out",
        error_class="TransientError",
        error_code="transient",
        error_message="unreachable",
        message=Message(body, {}, "application/json"),
        attempts=[{"attempt": 1}],
    )
    letter = await store.dead_letters.get(letter_id)
    assert letter is not None
    return letter


async def test_replay_uses_the_current_version_of_the_flow(tmp_path: Path, store: Store) -> None:
    letter = await dead_letter(store, b'{"id": "A-1"}')
    write(tmp_path, {"flows/orders.yaml": flow("out-v2")})  # fixed after the failure
    project = load_project(tmp_path)

    async with replaying(project, store, user="ops") as replayer:
        result = await replayer.replay(letter)
        sink = replayer._flows["orders"].pipeline.sinks["out"].sink

    assert result == ReplayResult(letter.id, "orders", True)
    assert isinstance(sink, RetryingSink)  # wrapped as the engine wraps it
    assert files(tmp_path / "out-v1") == []
    assert len(files(tmp_path / "out-v2")) == 1
    again = await store.dead_letters.get(letter.id)
    assert again is not None
    assert (again.status, again.replay_count) == ("replayed", 1)


async def test_a_failed_replay_updates_the_history(tmp_path: Path, store: Store) -> None:
    letter = await dead_letter(store, b'{"id": 7}')

    async with replaying(load_project(tmp_path), store, user="ops") as replayer:
        result = await replayer.replay(letter)

    assert not result.ok
    assert result.error.endswith("[contract]")
    again = await store.dead_letters.get(letter.id)
    assert again is not None
    assert (again.failure_count, again.error_code, again.step) == (
        2,
        "contract",
        "steps[1].validate",
    )
    assert again.flow_version == load_project(tmp_path).flows["orders"].version
    assert again.replay_count == 0


async def test_unknown_flows_and_purged_letters_are_not_replayed(
    tmp_path: Path, store: Store
) -> None:
    gone = await dead_letter(store, b"{}", flow="retired")
    purged = await dead_letter(store, b'{"id": "P"}')
    await store.dead_letters.purge("orders")
    purged_now = await store.dead_letters.get(purged.id)
    assert purged_now is not None

    async with replaying(load_project(tmp_path), store, user="ops") as replayer:
        results = await replayer.replay_all([gone, purged_now])

    assert [result.line() for result in results] == [
        f"failed {gone.id} (retired): the flow is no longer defined",
        f"failed {purged.id} (orders): purged (its payload is gone)",
    ]


def dedupe_flow(sink: str) -> dict[str, str]:
    return {
        "flows/orders.yaml": f"""
            integration: orders
            source: {{file: {{path: inbox}}}}
            steps:
              - decode: json
              - dedupe: {{key: id}}
              - encode: json
            sinks:
              out: {sink}
            on_error: {{retry: {{attempts: 1}}}}
        """
    }


async def test_a_failed_replay_releases_its_idempotency_key(tmp_path: Path, store: Store) -> None:
    write(tmp_path, dedupe_flow('{file: {path: out, name: "{headers[missing]}.json"}}'))
    letter = await dead_letter(store, b'{"id": "A-1"}')
    async with replaying(load_project(tmp_path), store, user="ops") as replayer:
        failed = await replayer.replay(letter)  # the key was claimed, then the sink failed

    write(tmp_path, dedupe_flow("{file: {path: out}}"))  # the flow is fixed
    async with replaying(load_project(tmp_path), store, user="ops") as replayer:
        replayed = await replayer.replay(letter)
        dropped = await replayer.replay(letter)  # delivered now: the key holds

    assert (failed.ok, replayed.ok, dropped.ok) == (False, True, True)
    assert len(files(tmp_path / "out")) == 1
