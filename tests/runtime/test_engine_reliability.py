"""A whole project in the engine: dead letters, journal resume, no loss on failure."""

from __future__ import annotations

from pathlib import Path

import orjson

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
