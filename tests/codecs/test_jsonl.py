"""The jsonl codec: one value per line, streaming, errors naming the line."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from splice.codecs import get_codec
from splice.codecs.jsonl import JsonLinesCodec, JsonLinesOptions
from splice.errors import CodecError

codec = JsonLinesCodec()


def test_decode_skips_blank_lines() -> None:
    assert codec.decode(b'{"a":1}\n\n[2]\r\n"x"') == [{"a": 1}, [2], "x"]


def test_encode_writes_one_line_per_value() -> None:
    assert codec.encode([{"total": 19.99}, 2]) == b'{"total":19.99}\n2\n'
    assert codec.encode({"a": 1}) == b'{"a":1}\n'


def test_bad_line_is_named() -> None:
    with pytest.raises(CodecError, match=r"\(at line 3, column 6\)$"):
        codec.decode(b'{"a":1}\n\n{"a":}\n')


def test_long_lines_are_refused() -> None:
    with pytest.raises(CodecError, match="max_line_bytes"):
        JsonLinesCodec(JsonLinesOptions(max_line_bytes=4)).decode(b'{"a": 1}\n')


def _numbers() -> Iterator[dict[str, int]]:
    yield from ({"n": n} for n in range(500))


def test_streams_record_by_record() -> None:
    out = io.BytesIO()
    codec.write_records(_numbers(), out)
    records = codec.iter_decode(io.BytesIO(out.getvalue()))
    assert next(records) == {"n": 0}
    assert sum(1 for _ in records) == 499
    assert codec.supports_records


def test_registered() -> None:
    assert isinstance(get_codec("jsonl"), JsonLinesCodec)
