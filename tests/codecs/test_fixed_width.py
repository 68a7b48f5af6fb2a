"""Fixed-width records: record types, zoned/packed decimals, EBCDIC, exact numbers, errors."""

from __future__ import annotations

import io
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from splice.codecs.fixed import SPEC, FixedWidthCodec, Layout
from splice.codecs.fixed._fields import json_number
from splice.errors import CodecError, ConfigError

LAYOUT = """
encoding: {encoding}
record_separator: {separator}
discriminator: {{start: 1, length: 2}}
records:
  - type: header
    when: "HD"
    fields:
      - {{name: kind, start: 1, length: 2}}
      - {{name: batch, start: 3, length: 6, type: int}}
      - {{name: created, start: 9, length: 8, type: date}}
      - {{name: note, start: 17, length: 10}}
  - type: line
    when: "LN"
    fields:
      - {{name: kind, offset: 0, length: 2}}
      - {{name: sku, start: 3, length: 6, trim: both}}
      - {{name: quantity, start: 9, length: 5, type: zoned}}
      - {{name: price, start: 14, length: 5, type: packed, scale: 2}}
      - {{name: weight, start: 19, length: 4, type: binary, scale: 3}}
      - {{name: ratio, start: 23, length: 4, type: zoned, scale: 4, signed: false}}
"""

RECORDS: list[dict[str, Any]] = [
    {"type": "header", "kind": "HD", "batch": 42, "created": "2024-02-29", "note": "FIRST"},
    {
        "type": "line",
        "kind": "LN",
        "sku": "A-1",
        "quantity": 12,
        "price": 0.3,
        "weight": 1.5,
        "ratio": 0.1,
    },
    {
        "type": "line",
        "kind": "LN",
        "sku": "B-2",
        "quantity": -7,
        "price": -12345.67,
        "weight": -2.125,
        "ratio": 0.9999,
    },
    {
        "type": "line",
        "kind": "LN",
        "sku": "C",
        "quantity": 99999,
        "price": 9999999.99,
        "weight": 2147483.647,
        "ratio": 0,
    },
]


def codec_for(tmp_path: Path, encoding: str = "ascii", separator: str = '"\\n"') -> FixedWidthCodec:
    path = tmp_path / "layout.yaml"
    path.write_text(LAYOUT.format(encoding=encoding, separator=separator))
    return SPEC.build(SPEC.parse({"layout": str(path)}), None)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("encoding", "separator"),
    [("ascii", '"\\n"'), ("cp037", "none"), ("cp500", "none"), ("latin-1", '"\\r\\n"')],
)
def test_records_round_trip_including_negative_and_maximum_values(
    tmp_path: Path, encoding: str, separator: str
) -> None:
    codec = codec_for(tmp_path, encoding, separator)
    data = codec.encode(RECORDS)
    assert codec.decode(data) == RECORDS
    assert codec.encode(codec.decode(data)) == data


def test_packed_decimal_and_zoned_overpunch_bytes_in_ebcdic(tmp_path: Path) -> None:
    data = codec_for(tmp_path, "cp037", "none").encode(RECORDS[:3])
    line = data[52:78]
    assert line[13:18] == bytes.fromhex("001234567d")  # packed -12345.67
    assert line[8:13] == bytes.fromhex("f0f0f0f0d7")  # zoned -7: last zone D
    assert line[:2] == "LN".encode("cp037")


def test_discriminator_selects_the_record_type(tmp_path: Path) -> None:
    codec = codec_for(tmp_path)
    types = [r["type"] for r in codec.decode(codec.encode(RECORDS))]
    assert types == ["header", "line", "line", "line"]


def test_numbers_are_exact_json_numbers() -> None:
    assert json_number(Decimal("0.30")) == 0.3
    assert repr(json_number(Decimal("0.3"))) == "0.3"
    assert json_number(Decimal("12345678901234567.89")) == "12345678901234567.89"
    assert json_number(Decimal("123")) == 123
    assert json_number(Decimal(2**60)) == str(2**60)


def test_unknown_discriminator_names_record_and_byte(tmp_path: Path) -> None:
    codec = codec_for(tmp_path)
    data = codec.encode(RECORDS) + b"XX" + b" " * 24 + b"\n"
    with pytest.raises(
        CodecError, match=r"no record type for discriminator 'XX' \(at record 5, byte 108\)"
    ):
        codec.decode(data)


def test_bad_field_names_record_field_and_byte_offset(tmp_path: Path) -> None:
    codec = codec_for(tmp_path)
    data = bytearray(codec.encode(RECORDS))
    data[27 + 17] = 0x11  # second record, packed price: bad sign nibble
    with pytest.raises(
        CodecError, match=r"not a packed decimal.*\(at record 2, field price, byte 40\)"
    ):
        codec.decode(bytes(data))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", 10**7, r"needs more than 5 bytes"),
        ("price", 0.001, r"more than 2 decimals"),
        ("quantity", 123456, r"longer than 5 bytes"),
        ("ratio", -1, r"negative but the field is unsigned"),
        ("weight", 10**7, r"does not fit in 4 bytes"),
    ],
)
def test_values_that_do_not_fit_are_refused(
    tmp_path: Path, field: str, value: Any, message: str
) -> None:
    record = {**RECORDS[1], field: value}
    with pytest.raises(CodecError, match=message + rf".*\(at record 1, field {field}, byte \d+\)"):
        codec_for(tmp_path).encode([record])


def test_short_record_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(
        CodecError, match=r"record is 5 bytes, type 'line' needs 26 \(at record 1, byte 0\)"
    ):
        codec_for(tmp_path).decode(b"LN123\n")


def test_layout_problems_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("records: [{type: a, fields: [{name: x, length: 2}]}]")
    with pytest.raises(ConfigError, match="give exactly one of start and offset"):
        SPEC.build(SPEC.parse({"layout": str(path)}), None)


def test_single_record_type_needs_no_discriminator() -> None:
    layout = Layout.model_validate(
        {
            "records": [
                {"type": "row", "fields": [{"name": "a", "start": 1, "length": 3, "type": "int"}]}
            ]
        }
    )
    codec = FixedWidthCodec.from_layout(layout)
    assert codec.decode(b"001\n-02\n") == [{"type": "row", "a": 1}, {"type": "row", "a": -2}]
    assert codec.encode([{"a": 1}, {"a": -2}]) == b"001\n-02\n"


def _peak(codec: FixedWidthCodec, path: Path) -> int:
    tracemalloc.start()
    with path.open("rb") as stream:
        for _ in codec.iter_decode(stream):
            pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_streaming_memory_does_not_grow_with_size(tmp_path: Path) -> None:
    codec = codec_for(tmp_path, "cp037", "none")
    small, large = tmp_path / "small.dat", tmp_path / "large.dat"
    small.write_bytes(codec.encode(RECORDS * 1_000))
    large.write_bytes(codec.encode(RECORDS * 4_000))
    assert len(list(codec.iter_decode(io.BytesIO(large.read_bytes())))) == 16_000
    assert _peak(codec, large) < _peak(codec, small) * 1.5 + 100_000
