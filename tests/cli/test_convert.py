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


def test_csv_to_xml_streams_the_document_encode_would_write(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('id,name\n1,"a, b"\n2,<c>\n')
    code, out, err = _convert("--from", "csv", "--to", "xml", str(source))
    assert (code, err) == (0, "")
    assert out == (
        "<?xml version='1.0' encoding='utf-8'?>\n<root><item><id>1</id><name>a, b</name></item>"
        "<item><id>2</id><name>&lt;c&gt;</name></item></root>\n"
    )
    code, back, _ = _convert("--from", "xml", "--to", "csv", stdin=out)
    assert (code, back) == (0, source.read_text())


def test_xml_records_are_the_children_of_the_root() -> None:
    doc = '<orders batch="7"><order id="1"><qty>2</qty></order><order id="2"/></orders>'
    code, out, _ = _convert("--from", "xml", "--to", "jsonl", stdin=doc)
    assert (code, out) == (0, '{"@id":"1","qty":"2"}\n{"@id":"2"}\n')


def test_xml_to_xml_keeps_the_whole_document() -> None:
    doc = '<orders batch="7"><order id="1"/></orders>'
    code, out, _ = _convert(
        "--from", "xml", "--to", "xml", "--to-option", "declaration=false", stdin=doc
    )
    assert (code, out) == (0, doc + "\n")


def test_a_bad_record_in_a_stream_exits_1_naming_it() -> None:
    code, _, err = _convert("--from", "jsonl", "--to", "xml", stdin='{"a":1}\n{"b c":2}\n')
    assert code == 1
    assert "stdin: cannot write XML: Invalid tag name 'b c' (at root.item[1].b c)" in err
