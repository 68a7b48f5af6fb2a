"""splice map: evaluate like jq, exit codes, output formats, lookups."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import splice.cli.init
import splice.cli.map
import splice.cli.run  # noqa: F401 - more than one command, as in the real CLI
from splice.cli.app import app

runner = CliRunner()


def _map(*args: str, stdin: str = "") -> tuple[int, str, str]:
    result = runner.invoke(app, ["map", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_money_is_exact() -> None:
    assert _map("a + b", stdin='{"a":0.1,"b":0.2}') == (0, "0.3\n", "")


def test_pretty_by_default_and_compact() -> None:
    code, out, _ = _map('{"x": [1, 2]}', stdin="{}")
    assert (code, out) == (0, '{\n  "x": [\n    1,\n    2\n  ]\n}\n')
    assert _map("--compact", '{"x": [1, 2]}', stdin="{}")[1] == '{"x":[1,2]}\n'


def test_undefined_prints_nothing() -> None:
    assert _map("missing", stdin="{}") == (0, "", "")


def test_evaluation_error_exits_1_with_code() -> None:
    code, out, err = _map("a + 1", stdin='{"a":"x"}')
    assert (code, out) == (1, "")
    assert "T2001 at position 3" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_json_input_names_the_position() -> None:
    code, _, err = _map("a", stdin='{"a":\n  oops}')
    assert code == 1
    assert "stdin is not JSON" in err
    assert "line 2" in err


def test_bad_bindings_exit_2() -> None:
    assert _map("--bindings", "[1", "$x", stdin="{}")[0] == 2
    assert _map("--bindings", "[1]", "$x", stdin="{}")[0] == 2


def test_bindings() -> None:
    assert _map("--bindings", '{"rate": 1.1}', "p * $rate", stdin='{"p": 10}')[1] == "11\n"


def test_input_file_and_expression_file(tmp_path: Path) -> None:
    (tmp_path / "in.json").write_text("[0.1, 0.2]")
    (tmp_path / "sum.jsonata").write_text("$sum($)")
    assert _map("$sum($)", str(tmp_path / "in.json"))[1] == "0.3\n"
    assert _map("--file", str(tmp_path / "sum.jsonata"), str(tmp_path / "in.json"))[1] == "0.3\n"


def test_lookup_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("c.csv").write_text("code,name\nDE,Germany\n")
    out = _map("--lookup", "countries=c.csv", '$lookup("countries", c)', stdin='{"c":"DE"}')
    assert out == (0, '"Germany"\n', "")
    assert _map("--lookup", "countries", "1", stdin="{}")[0] == 2
    assert _map("--lookup", "t=missing.csv", "1", stdin="{}")[0] == 2


def test_no_expression_exits_2() -> None:
    assert _map(stdin="{}")[0] == 2
