"""EDIFACT: service string advice, escaping, groups, envelope errors, CONTRL, streaming."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from splice.codecs.edifact import SPEC, EdifactCodec, acknowledge
from splice.errors import CodecError

MESSAGE = (
    "UNH+{n}+ORDERS:D:96A:UN'BGM+220+PO{n}+9'DTM+137:20240101:102'NAD+BY+123::9'"
    "RFF+VA:DE?+1'LIN+1++4000:EN'QTY+21:5'LIN+2++4001:EN'QTY+21:7'UNS+S'UNT+11+{n}'"
)


def interchange(messages: int = 1, una: str = "") -> bytes:
    body = "".join(MESSAGE.format(n=n) for n in range(1, messages + 1))
    return f"{una}UNB+UNOC:3+SENDER+RECEIVER+240101:1200+REF1'{body}UNZ+{messages}+REF1'".encode()


def test_default_separators_apply_without_una() -> None:
    seps = EdifactCodec().decode(interchange())["interchange"]["separators"]
    assert seps == {
        "component": ":",
        "element": "+",
        "decimal": ".",
        "release": "?",
        "reserved": " ",
        "segment": "'",
        "una": False,
        "line_break": "",
    }


def test_una_sets_the_separators_and_is_regenerated() -> None:
    data = interchange(una="UNA|*,# !").replace(b"'", b"!").replace(b"+", b"*").replace(b":", b"|")
    data = data.replace(b"DE?*1", b"DE#*1")
    codec = EdifactCodec()
    doc = codec.decode(data)
    assert doc["interchange"]["separators"]["element"] == "*"
    assert codec.encode(doc) == data


def test_release_character_is_removed_and_restored() -> None:
    data = interchange().replace(b"DE?+1", b"A?:B?'C??D?+E")
    codec = EdifactCodec()
    doc = codec.decode(data)
    segment = doc["interchange"]["messages"][0]["segments"][2]["segments"][1]["segments"][0]
    assert segment == {"id": "RFF", "elements": [["VA", "A:B'C?D+E"]]}
    assert codec.encode(doc) == data


def test_orders_segment_groups_from_the_definition() -> None:
    segments = EdifactCodec().decode(interchange())["interchange"]["messages"][0]["segments"]
    shape = [s.get("id") or s["group"] for s in segments]
    assert shape == ["BGM", "DTM", "SG2", "SG25", "SG25", "UNS"]
    assert segments[2]["segments"][1] == {
        "group": "SG3",
        "segments": [segments[2]["segments"][1]["segments"][0]],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((b"UNT+11+1", b"UNT+12+1"), r"^segment 12 \(UNT\): UNT01 says 12 segments, counted 11"),
        ((b"UNT+11+1", b"UNT+11+2"), r"^segment 12 \(UNT\): UNT02 '2' does not match UNH01 '1'"),
        (
            (b"UNZ+1+", b"UNZ+2+"),
            r"^segment 13 \(UNZ\): UNZ01 says 2 messages or groups, counted 1",
        ),
        ((b"UNZ+1+REF1", b"UNZ+1+REF2"), r"^segment 13 \(UNZ\): UNZ02 'REF2' does not match UNB05"),
        ((b"UNZ+1+REF1'", b""), r"^segment 12 \(UNT\): the stream ends before UNZ"),
        ((b"BGM+", b"B-M+"), r"^segment 3 \(B-M\): bad segment tag"),
    ],
)
def test_envelope_errors_name_segment_and_element(
    change: tuple[bytes, bytes], message: str
) -> None:
    with pytest.raises(CodecError, match=message):
        EdifactCodec().decode(interchange().replace(*change))


def test_groups_are_validated_and_round_trip() -> None:
    body = MESSAGE.format(n=1)
    group = f"UNG+ORDERS+S+R+240101:1200+G1+UN+D:96A'{body}UNE+1+G1'"
    data = f"UNB+UNOC:3+S+R+240101:1200+9'{group}UNZ+1+9'"
    codec = EdifactCodec()
    doc = codec.decode(data.encode())
    assert [g["UNG"]["UNG05"] for g in doc["interchange"]["groups"]] == ["G1"]
    assert codec.encode(doc) == data.encode()
    with pytest.raises(CodecError, match=r"segment 14 \(UNE\): UNE01 says 2 messages, counted 1"):
        codec.decode(data.replace("UNE+1", "UNE+2").encode())


def test_contrl_rejects_a_message_whose_count_is_wrong() -> None:
    codec = EdifactCodec()
    doc = codec.decode(interchange(2))
    doc["interchange"]["messages"][1]["UNT"]["UNT01"] = "99"
    contrl = acknowledge(doc, reference="ACK1")
    text = codec.encode(contrl).decode()
    assert "UCI+REF1+SENDER+RECEIVER+4'" in text
    assert "UCM+1+ORDERS:D:96A:UN+7'" in text
    assert "UCM+2+ORDERS:D:96A:UN+4+29'" in text
    assert codec.decode(text.encode()) == contrl


def test_trailers_are_computed_when_absent() -> None:
    codec = EdifactCodec()
    doc = codec.decode(interchange(2))
    del doc["interchange"]["UNZ"]
    for message in doc["interchange"]["messages"]:
        del message["UNT"]
    assert codec.encode(doc) == interchange(2)


def test_iter_decode_yields_messages_and_write_records_restores_them() -> None:
    codec = EdifactCodec()
    records = list(codec.iter_decode(io.BytesIO(interchange(3))))
    assert [r["message"]["UNH"]["UNH01"] for r in records] == ["1", "2", "3"]
    out = io.BytesIO()
    codec.write_records(records, out)
    assert out.getvalue() == interchange(3)


def _peak(path: Path) -> int:
    tracemalloc.start()
    with path.open("rb") as stream:
        for _ in EdifactCodec().iter_decode(stream):
            pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_streaming_memory_does_not_grow_with_size(tmp_path: Path) -> None:
    small, large = tmp_path / "small.edi", tmp_path / "large.edi"
    small.write_bytes(interchange(2_000))
    large.write_bytes(interchange(8_000))
    assert _peak(large) < _peak(small) * 1.5 + 100_000


def test_spec_builds_the_codec() -> None:
    codec: Any = SPEC.build(SPEC.parse({"encoding": "latin-1"}), None)
    assert isinstance(codec, EdifactCodec)
