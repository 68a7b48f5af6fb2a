"""splice dlq: list, show, edit, replay and purge against a project's store."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import splice.cli.dlq
import splice.cli.run  # noqa: F401 - more than one command, as in the real CLI
from splice.cli.app import app
from splice.cli.dlq import parse_since
from splice.message import Message
from splice.store import DeadLetter, Store
from tests.runtime.engine_harness import files, write

runner = CliRunner()

SCHEMA = '{"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}'


def project(root: Path) -> Path:
    return write(
        root,
        {
            "splice.yaml": "project: dlq-test\n",
            "schemas/order.json": SCHEMA,
            "flows/orders.yaml": """
                integration: orders
                source: {file: {path: inbox}}
                steps:
                  - decode: json
                  - validate: {schema: schemas/order.json}
                  - encode: json
                sinks:
                  out: {file: {path: out, name: "{id}.json"}}
                on_error: {retry: {attempts: 1}}
            """,
            "flows/audit.yaml": """
                integration: audit
                source: {file: {path: audit-in}}
                sinks:
                  log: {file: {path: audit, mode: append, name: audit.log}}
            """,
        },
    )


def seed(root: Path, *letters: tuple[str, bytes, dict[str, str]]) -> list[str]:
    async def add() -> list[str]:
        store = await Store.open("sqlite:///.splice/state.db", project_dir=root)
        try:
            ids = []
            for flow, body, headers in letters:
                ids.append(
                    await store.dead_letters.add(
                        flow=flow,
                        flow_version="v1",
                        step="steps[1].validate",
                        error_class="ContractViolation",
                        error_code="contract",
                        error_message="/id: 7 is not of type 'string'",
                        message=Message(body, headers, "application/json"),
                        attempts=[{"attempt": 1, "error": "contract"}],
                    )
                )
            return ids
        finally:
            await store.close()

    return asyncio.run(add())


def stored(root: Path, letter_id: str) -> DeadLetter:
    async def get() -> DeadLetter:
        store = await Store.open("sqlite:///.splice/state.db", project_dir=root)
        try:
            letter = await store.dead_letters.get(letter_id)
            assert letter is not None
            return letter
        finally:
            await store.close()

    return asyncio.run(get())


def dlq(root: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    result = runner.invoke(app, ["dlq", *args, "--project", str(root)], input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return project(tmp_path)


def test_list_shows_a_table_and_json(root: Path) -> None:
    bad, other = seed(root, ("orders", b'{"id": 7}', {}), ("audit", b"x", {}))

    code, out, _ = dlq(root, "list")
    assert code == 0
    assert out.splitlines()[0].split() == [
        "ID", "FLOW", "STEP", "ERROR", "FIRST", "FAILURE", "LAST", "FAILURE", "FAILURES",
        "ATTEMPTS", "REPLAYS", "STATUS",
    ]  # fmt: skip
    assert bad in out
    assert other in out

    code, out, _ = dlq(root, "list", "--flow", "orders", "--json")
    [row] = json.loads(out)
    assert (code, row["id"], row["error_code"], row["failures"], row["replays"]) == (
        0, bad, "contract", 1, 0,
    )  # fmt: skip


def test_list_since_and_limit(root: Path) -> None:
    seed(root, ("orders", b'{"id": 1}', {}), ("orders", b'{"id": 2}', {}))

    assert len(json.loads(dlq(root, "list", "--since", "1h", "--json")[1])) == 2
    assert len(json.loads(dlq(root, "list", "--limit", "1", "--json")[1])) == 1
    future = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert dlq(root, "list", "--since", future)[1] == "no dead letters\n"
    code, _, err = dlq(root, "list", "--since", "yesterday")
    assert code == 2
    assert "use a duration like 30m" in err


def test_parse_since() -> None:
    now = datetime(2026, 1, 2, 12, tzinfo=UTC)
    assert parse_since("1h", now) == datetime(2026, 1, 2, 11, tzinfo=UTC)
    assert parse_since("2d", now) == datetime(2025, 12, 31, 12, tzinfo=UTC)
    assert parse_since("2026-01-01") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_since("2026-01-01T10:00:00+01:00").hour == 10


def test_show_masks_secrets_and_previews_binary(root: Path) -> None:
    text, binary = seed(
        root,
        ("orders", b'{"id": 7}', {"Authorization": "Bearer abc", "file.name": "a.json"}),
        ("orders", bytes(range(250, 256)) * 100, {}),
    )

    code, out, _ = dlq(root, "show", text)
    assert code == 0
    assert "  Authorization: ***" in out
    assert "abc" not in out
    assert "error_code: contract" in out
    assert 'payload (text, 9 bytes):\n{"id": 7}\n' in out
    assert "  1. attempt=1, error=contract" in out

    out = dlq(root, "show", binary)[1]
    assert "payload: 600 bytes, not UTF-8" in out
    assert "  hex: fa fb fc fd fe ff" in out
    assert out.count(" ...") == 2

    assert dlq(root, "show", "nope")[0] == 1


def test_a_purged_letter_cannot_be_edited(root: Path) -> None:
    [letter_id] = seed(root, ("orders", b'{"id": 7}', {}))
    dlq(root, "purge", "--yes")

    code, _, err = dlq(root, "edit", letter_id, "--body-file", __file__)
    assert code == 1
    assert "was purged" in err


def test_replay_a_fixed_message_delivers_it_and_counts_the_replay(root: Path) -> None:
    [letter_id] = seed(root, ("orders", b'{"id": 7}', {}))
    fixed = root / "fixed.json"
    fixed.write_bytes(b'{"id": "A-7"}')

    code, out, _ = dlq(root, "replay", letter_id)
    assert code == 1
    assert out.startswith(f"failed {letter_id} (orders): flow 'orders', steps[1].validate:")
    assert out.endswith("0 replayed, 1 failed\n")
    again = stored(root, letter_id)
    assert again.failure_count == 2
    assert again.flow_version not in (None, "v1")  # the flow's current version
    assert (again.status, again.replay_count) == ("pending", 0)

    code, out, _ = dlq(root, "edit", letter_id, "--body-file", str(fixed), "--replay")
    assert code == 0
    assert out.splitlines() == [
        f"edited {letter_id} (13 bytes)",
        f"replayed {letter_id} (orders)",
        "1 replayed, 0 failed",
    ]
    [written] = files(root / "out")
    assert json.loads((root / "out" / written).read_bytes()) == {"id": "A-7"}
    letter = stored(root, letter_id)
    assert (letter.status, letter.replay_count) == ("replayed", 1)
    assert letter.payload_edited_at is not None
    assert dlq(root, "list", "--json")[1].count('"replays":1') == 1


def test_replay_by_flow_and_all(root: Path) -> None:
    seed(root, ("orders", b'{"id": "A-1"}', {}), ("orders", b'{"id": "A-2"}', {}))
    seed(root, ("audit", b"line", {}))

    code, out, _ = dlq(root, "replay", "--flow", "orders")
    assert (code, out.splitlines()[-1]) == (0, "2 replayed, 0 failed")
    assert len(files(root / "out")) == 2

    code, out, _ = dlq(root, "replay", "--all")
    assert (code, out.splitlines()[-1]) == (0, "1 replayed, 0 failed")
    assert (root / "audit" / "audit.log").read_bytes() == b"line\n"

    assert dlq(root, "replay")[0] == 2
    assert dlq(root, "replay", "x", "--all")[0] == 2


def test_edit_without_replay_when_declined(root: Path) -> None:
    [letter_id] = seed(root, ("orders", b'{"id": 7}', {}))
    fixed = root / "fixed.json"
    fixed.write_bytes(b'{"id": "A-7"}')

    code, out, _ = dlq(root, "edit", letter_id, "--body-file", str(fixed), stdin="n\n")
    assert code == 0
    assert "Replay it now?" in out
    assert stored(root, letter_id).message().body == b'{"id": "A-7"}'
    assert files(root / "out") == []


def test_edit_in_the_editor(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [letter_id] = seed(root, ("orders", b'{"id": 7}', {}))
    script = root / "fix.sh"
    script.write_text('#!/bin/sh\nprintf \'{"id": "E-7"}\' > "$1"\n')
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))

    code, out, _ = dlq(root, "edit", letter_id, "--no-replay")
    assert (code, out) == (0, f"edited {letter_id} (13 bytes)\n")
    assert stored(root, letter_id).message().body == b'{"id": "E-7"}'

    monkeypatch.setenv("EDITOR", "true")
    assert dlq(root, "edit", letter_id)[1] == "payload unchanged\n"


def test_purge_asks_unless_yes(root: Path) -> None:
    seed(root, ("orders", b"1", {}), ("audit", b"2", {}))

    code, out, _ = dlq(root, "purge", "--flow", "orders", stdin="n\n")
    assert code == 1
    assert "Purge 1 dead letter(s) of flow 'orders'?" in out
    assert dlq(root, "purge", "--flow", "orders", stdin="y\n")[0] == 0
    assert len(json.loads(dlq(root, "list", "--json")[1])) == 1

    code, out, _ = dlq(root, "purge", "--yes")
    assert (code, out) == (0, "purged 1 dead letter(s) of every flow\n")
    assert dlq(root, "purge", "--yes")[1] == "no dead letters to purge\n"


def test_a_broken_project_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, {"splice.yaml": "project: [\n"})
    assert dlq(tmp_path, "list")[0] == 2
