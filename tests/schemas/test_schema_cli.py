"""``splice schema``: the registry of a project's store from the command line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import splice.cli.map
import splice.cli.schema  # noqa: F401 - registers the command
from splice.cli.app import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parent / "examples"


def run(project: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["schema", *args, "--project", str(project)])
    return result.exit_code, result.output


def test_register_list_show_diff(tmp_path: Path) -> None:
    assert run(tmp_path, "list") == (0, "no schemas registered\n")
    assert run(tmp_path, "register", "order", str(EXAMPLES / "order-v1.schema.json"))[0] == 0
    code, out = run(tmp_path, "register", "order", str(EXAMPLES / "order-v2.schema.json"))
    assert (code, out) == (0, "registered order version 2\n")
    again = run(tmp_path, "register", "order", str(EXAMPLES / "order-v2.schema.json"))
    assert again == (0, "order version 2 already holds this schema\n")
    assert run(tmp_path, "list") == (0, "order  v2  json\n")
    code, out = run(tmp_path, "show", "order@1")
    assert code == 0
    assert '"total"' in out
    assert run(tmp_path, "diff", "order", "1", "2") == (0, "compatible: field 'note' added\n")


def test_check_and_refusal_list_each_breaking_change(tmp_path: Path) -> None:
    run(tmp_path, "register", "order", str(EXAMPLES / "order-v1.schema.json"))
    code, out = run(tmp_path, "check", "order", str(EXAMPLES / "order-v3.schema.json"))
    assert code == 1
    assert out.splitlines() == [
        "not BACKWARD compatible with order:",
        "  type of 'qty' changed from integer to string",
    ]
    assert run(tmp_path, "mode", "order", "none") == (0, "order: NONE\n")
    code, out = run(tmp_path, "check", "order", str(EXAMPLES / "order-v3.schema.json"))
    assert (code, out) == (0, "compatible with order under NONE\n")


def test_seed_registers_the_schemas_folder(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "order.schema.json").write_text(
        (EXAMPLES / "order-v1.schema.json").read_text()
    )
    assert run(tmp_path, "seed") == (0, "order  v1  registered\n")
    assert run(tmp_path, "seed") == (0, "order  v1  unchanged\n")


def test_errors_are_one_line_with_an_exit_code(tmp_path: Path) -> None:
    code, _ = run(tmp_path, "show", "nope@2")
    assert code == 1
    code, _ = run(tmp_path, "register", "order", str(tmp_path / "missing.json"))
    assert code == 2
    code, _ = run(tmp_path, "mode", "order", "SIDEWAYS")
    assert code == 2
    (tmp_path / "notes.txt").write_text("{}")
    code, _ = run(tmp_path, "register", "order", str(tmp_path / "notes.txt"))
    assert code == 2
