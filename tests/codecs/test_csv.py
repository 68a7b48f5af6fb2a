"""The csv codec: csv-spectrum conformance, options, ragged rows, encoding, streaming."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from splice.codecs import CodecOptionError, codec_for_content_type, get_codec
from splice.codecs.csv import CsvCodec, CsvOptions
from splice.errors import CodecError

SPECTRUM = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "csv-spectrum"
codec = CsvCodec()


@pytest.mark.parametrize("path", sorted((SPECTRUM / "csvs").glob("*.csv")), ids=lambda p: p.stem)
def test_csv_spectrum_decodes_exactly(path: Path) -> None:
    expected = json.loads((SPECTRUM / "json" / f"{path.stem}.json").read_text())
    assert codec.decode(path.read_bytes()) == expected


def test_without_header_rows_are_lists() -> None:
    plain = CsvCodec(CsvOptions(header=False))
    assert plain.decode(b"a,b\n1,2\n") == [["a", "b"], ["1", "2"]]
    assert plain.encode([["a", "b"], [1, None]]) == b"a,b\n1,\n"


def test_columns_replace_the_header_row() -> None:
    named = CsvCodec(CsvOptions(columns=["x", "y"]))
    assert named.decode(b"a,b\n1,2\n") == [{"x": "1", "y": "2"}]
    unheaded = CsvCodec(CsvOptions(header=False, columns=["x", "y"]))
    assert unheaded.decode(b"1,2\n") == [{"x": "1", "y": "2"}]


def test_delimiter_quotechar_escapechar() -> None:
    semi = CsvCodec(CsvOptions(delimiter=";", quotechar="'"))
    assert semi.decode(b"a;b\n'x;y';2\n") == [{"a": "x;y", "b": "2"}]
    escaped = CsvCodec(CsvOptions(escapechar="\\"))
    assert escaped.decode(b'a\n"say \\"hi\\""\n') == [{"a": 'say "hi"'}]


def test_utf8_bom_is_stripped() -> None:
    assert codec.decode(b"\xef\xbb\xbfid\n1\n") == [{"id": "1"}]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16"])
def test_other_encodings_both_ways(encoding: str) -> None:
    other = CsvCodec(CsvOptions(encoding=encoding))
    rows = [{"name": "Zoë", "city": "Köln"}]
    assert other.decode(other.encode(rows)) == rows
    assert other.decode("name\nZoë\n".encode(encoding)) == [{"name": "Zoë"}]


def test_text_in_the_wrong_encoding_is_a_codec_error() -> None:
    with pytest.raises(CodecError, match="not utf-8 text"):
        codec.decode(b"name\nZo\xeb\n")


def test_blank_lines_are_skipped_unless_asked() -> None:
    assert codec.decode(b"\na\n1\n\n2\n") == [{"a": "1"}, {"a": "2"}]
    keep = CsvCodec(CsvOptions(header=False, skip_blank_lines=False))
    assert keep.decode(b"1\n\n2\n") == [["1"], [], ["2"]]


def test_ragged_rows_name_the_row() -> None:
    with pytest.raises(CodecError, match=r"row 3 has 3 fields, expected 2 \(at row 3, line 3\)"):
        codec.decode(b"a,b\n1,2\n1,2,3\n")


def test_ragged_rows_allowed_when_not_strict() -> None:
    lenient = CsvCodec(CsvOptions(strict=False))
    assert lenient.decode(b"a,b\n1\n1,2,3\n") == [
        {"a": "1", "b": ""},
        {"a": "1", "b": "2", "_extra": ["3"]},
    ]


def test_bad_quoting_names_the_line() -> None:
    with pytest.raises(CodecError, match="line 2"):
        codec.decode(b'a,b\n"x"y,2\n')


def test_encode_header_is_keys_in_first_seen_order() -> None:
    rows = [{"a": 1, "b": None}, {"c": True, "a": 19.99}]
    assert codec.encode(rows) == b"a,b,c\n1,,\n19.99,,true\n"


def test_encode_a_single_object_is_one_row() -> None:
    assert codec.encode({"id": "A-1", "total": 21.0}) == b"id,total\nA-1,21.0\n"


def test_encode_options() -> None:
    rfc = CsvCodec(CsvOptions(line_terminator="\r\n", columns=["b", "a"], delimiter=";"))
    assert rfc.encode([{"a": 1, "b": "x;y", "c": 3}]) == b'b;a\r\n"x;y";1\r\n'
    assert CsvCodec(CsvOptions(header=False)).encode([{"a": 1}]) == b"1\n"


def test_values_that_cannot_be_cells_name_row_and_column() -> None:
    with pytest.raises(CodecError, match=r"\(at row 2, column b\)"):
        codec.encode([{"a": 1}, {"b": {"nested": 1}}])
    with pytest.raises(CodecError, match="list of rows"):
        codec.encode("text")


def _rows(count: int) -> Iterator[dict[str, str]]:
    for n in range(count):
        yield {"n": str(n), "name": f"row {n}"}


def test_streaming_round_trip_row_by_row() -> None:
    out = io.BytesIO()
    codec.write_records(_rows(1000), out)
    assert out.getvalue().startswith(b"n,name\n0,row 0\n")
    decoded = codec.iter_decode(io.BytesIO(out.getvalue()))
    assert next(decoded) == {"n": "0", "name": "row 0"}
    assert sum(1 for _ in decoded) == 999
    assert not out.closed


def test_iter_decode_is_lazy() -> None:
    stream = io.BytesIO(b"a\n1\n2,3\n")
    rows = codec.iter_decode(stream)
    assert next(rows) == {"a": "1"}
    with pytest.raises(CodecError, match="row 3"):
        next(rows)


def test_options_are_validated() -> None:
    with pytest.raises(CodecOptionError, match="csv option 'delimiter'"):
        get_codec("csv", {"delimiter": ";;"})
    with pytest.raises(CodecOptionError, match="unknown encoding"):
        get_codec("csv", {"encoding": "klingon"})


def test_content_type() -> None:
    assert isinstance(codec_for_content_type("text/csv; charset=utf-8"), CsvCodec)
