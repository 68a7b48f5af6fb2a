"""splice convert: formats, options, streaming, exit codes, one-line errors."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import splice.cli.convert
import splice.cli.map  # noqa: F401 - more than one command, as in the real CLI
from splice.cli.app import app
from splice.cli.convert import parse_options

runner = CliRunner()


def _convert(*args: str, stdin: str | bytes = "") -> tuple[int, str, str]:
    result = runner.invoke(app, ["convert", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_json_to_xml_keeps_money() -> None:
    code, out, err = _convert("--from", "json", "--to", "xml", stdin='{"order":{"total":19.99}}')
    assert (code, err) == (0, "")
    assert out == "<?xml version='1.0' encoding='utf-8'?>\n<order><total>19.99</total></order>\n"


def test_options_are_yaml_scalars() -> None:
    args = ["--from", "csv", "--from-option", "delimiter=;", "--to", "csv"]
    code, out, _ = _convert(*args, "--to-option", "header=false", stdin="a;b\n1;2\n")
    assert (code, out) == (0, "1,2\n")
    assert parse_options(["n=3", "flag=true", "d=#", "s=x=y", "e="]) == {
        "n": 3,
        "flag": True,
        "d": "#",
        "s": "x=y",
        "e": "",
    }


def test_records_stream_from_csv_to_jsonl(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,name\n1,a\n2,b\n")
    target = tmp_path / "out.jsonl"
    code, out, _ = _convert("--from", "csv", "--to", "jsonl", str(source), "--output", str(target))
    assert (code, out) == (0, "")
    assert target.read_text() == '{"id":"1","name":"a"}\n{"id":"2","name":"b"}\n'


def test_xml_to_json_from_a_file(tmp_path: Path) -> None:
    source = tmp_path / "order.xml"
    source.write_bytes(b'<order id="A-1"><line>1</line><line>2</line></order>')
    code, out, _ = _convert("--from", "xml", "--to", "json", str(source))
    assert (code, out) == (0, '{"order":{"@id":"A-1","line":["1","2"]}}\n')


def test_bad_input_exits_1_with_the_position_on_one_line() -> None:
    code, out, err = _convert("--from", "json", "--to", "xml", stdin='{"a":\n  oops}')
    assert (code, out) == (1, "")
    assert "stdin: not valid JSON" in err
    assert "line 2, column 3" in err
    assert len(err.strip().splitlines()) == 1


def test_hostile_xml_exits_1() -> None:
    doc = '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    code, _, err = _convert("--from", "xml", "--to", "json", stdin=doc)
    assert code == 1
    assert "DOCTYPE is refused" in err


def test_missing_file_exits_1_naming_it() -> None:
    code, _, err = _convert("--from", "json", "--to", "xml", "no-such.json")
    assert code == 1
    assert "cannot read no-such.json" in err


def test_unknown_format_exits_2_with_a_suggestion() -> None:
    code, _, err = _convert("--from", "jsn", "--to", "xml")
    assert code == 2
    assert "unknown format 'jsn' — did you mean 'json'?" in err


def test_bad_option_exits_2_naming_it() -> None:
    code, _, err = _convert("--from", "csv", "--from-option", "delimeter=;", "--to", "json")
    assert code == 2
    assert "csv option 'delimeter': unknown option — did you mean 'delimiter'?" in err
    assert _convert("--from", "csv", "--from-option", "novalue", "--to", "json")[0] == 2


def test_value_the_target_cannot_hold_exits_1() -> None:
    code, _, err = _convert("--from", "json", "--to", "text", stdin="[1]")
    assert code == 1
    assert "cannot write text" in err
