"""A whole project in the engine: dead letters, journal resume, no loss on failure."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest

from splice.message import Message
from splice.store import Store
from tests.runtime.engine_harness import eventually, files, start, write

SCHEMA = '{"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}'


def project(root: Path, *, dead_letter: bool = True) -> Path:
    return write(
        root,
        {
            "schemas/order.json": SCHEMA,
            "flows/orders.yaml": f"""
                integration: orders
                source: {{file: {{path: inbox, poll_interval: 0.05}}}}
                steps:
                  - decode: json
                  - validate: {{schema: schemas/order.json}}
                  - encode: json
                sinks:
                  out: {{file: {{path: out, name: "{{id}}.json"}}}}
                on_error: {{dead_letter: {str(dead_letter).lower()}}}
            """,
        },
    )


async def test_a_bad_message_is_dead_lettered_with_its_original_payload_and_reason(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    (root / "inbox").mkdir()
    (root / "inbox" / "good.json").write_bytes(b'{"id": "A-1"}')
    (root / "inbox" / "bad.json").write_bytes(b'{"id": 7}')
    engine = await start(root)
    assert engine.store is not None
    store = engine.store
    try:
        await eventually(lambda: len(files(root / "out")) == 1)
        await eventually(lambda: files(root / "inbox" / "done") == ["bad.json", "good.json"])
        [letter] = await store.dead_letters.list(flow="orders")
    finally:
        await engine.stop()
    assert letter.step == "steps[1].validate"
    assert letter.error_code == "contract"
    assert "/id: 7 is not of type 'string'" in letter.error_message
    original = letter.message()
    assert original.body == b'{"id": 7}'
    assert original.headers["file.name"] == "bad.json"


async def test_without_dead_letters_a_bad_file_goes_to_failed_with_its_reason(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, dead_letter=False)
    (root / "inbox").mkdir()
    (root / "inbox" / "bad.json").write_bytes(b"{not json")
    engine = await start(root)
    try:
        await eventually(lambda: "bad.json" in files(root / "inbox" / "failed"))
    finally:
        await engine.stop()
    reason = (root / "inbox" / "failed" / "bad.json.error").read_text()
    assert "steps[0].decode" in reason


async def test_unfinished_journal_entries_are_delivered_at_start(tmp_path: Path) -> None:
    root = project(tmp_path)
    store = await Store.open("sqlite:///.splice/state.db", project_dir=root)
    message = Message(b'{"id": "J-1"}', {"source": "http"}, "application/json")
    await store.journal.append("orders", message)
    await store.close()
    engine = await start(root)
    try:
        await eventually(lambda: len(files(root / "out")) == 1)
        store = engine.store
        assert store is not None

        async def journal_empty() -> bool:
            return await store.journal.count_pending("orders") == 0

        await eventually(journal_empty)
    finally:
        await engine.stop()
    [written] = files(root / "out")
    assert orjson.loads((root / "out" / written).read_bytes()) == {"id": "J-1"}


def timer_project(root: Path, *, resume: bool) -> Path:
    """Ticks every 50 ms; the throttle lets one an hour through, so the second tick is held
    in the flow when the engine stops (the drain waits 0.2 s for it, then gives up)."""
    timer = f"{{interval: 0.05, count: 2, body: tick, resume: {str(resume).lower()}}}"
    return write(
        root,
        {
            "splice.yaml": "runtime: {drain_timeout: 0.2}\n",
            "flows/ticks.yaml": f"""
                integration: ticks
                source: {{timer: {timer}}}
                steps:
                  - throttle: {{rate: 1, per: 1h}}
                sinks:
                  out: {{file: {{path: out, name: "tick-{{headers[timer.sequence]}}.txt"}}}}
            """,
        },
    )


async def _stopped_with_a_tick_held(root: Path) -> int:
    """Run until the second tick is held in the throttle, stop; the ticks left pending."""
    engine = await start(root)
    try:
        await eventually(lambda: files(root / "out") == ["tick-1.txt"])
        runner = engine.flows["ticks"]
        await eventually(lambda: runner.counts["received"] == 2)
    finally:
        await engine.stop()
    store = await Store.open("sqlite:///.splice/state.db", project_dir=root)
    try:
        return await store.journal.count_pending("ticks")
    finally:
        await store.close()


async def test_a_tick_interrupted_by_a_stop_runs_again_at_the_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = timer_project(tmp_path, resume=True)
    with caplog.at_level(logging.WARNING, logger="splice.connectors.timer.source"):
        assert await _stopped_with_a_tick_held(root) == 1
    assert "timer tick 2" in caplog.text
    assert "it runs again when the flow starts next" in caplog.text
    (root / "out" / "tick-1.txt").unlink()
    engine = await start(root)  # the journaled tick 2 runs first, through a fresh throttle
    try:
        await eventually(lambda: files(root / "out") == ["tick-2.txt"])
    finally:
        await engine.stop()
    assert (root / "out" / "tick-2.txt").read_bytes() == b"tick"


async def test_with_resume_off_an_interrupted_tick_is_left_behind(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = timer_project(tmp_path, resume=False)
    with caplog.at_level(logging.WARNING, logger="splice.connectors.timer.source"):
        assert await _stopped_with_a_tick_held(root) == 0
    assert "timer tick 2" in caplog.text
    assert "it is skipped" in caplog.text
