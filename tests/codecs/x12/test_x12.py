"""X12: separators, structure, validation errors, generation, acknowledgements, streaming."""

from __future__ import annotations

import io
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from splice.codecs.x12 import SPEC, X12Codec, X12Options, acknowledge
from splice.errors import CodecError

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*240101*1200*^*00501*000000042*0*P*:~\n"
)
PO = (
    "ST*850*{n:04d}~\nBEG*00*SA*PO{n}**20240101~\nREF*DP*038~\n"
    "N1*ST*SHIP TO*9*123~\nN3*1 MAIN ST~\n"
    "PO1*1*10*EA*9.25**VN*ABC~\nPID*F****WIDGET~\nPO1*2*5*EA*1.5**VN*XYZ^UVW~\nCTT*2~\nSE*10*{n:04d}~\n"
)


def interchange(transactions: int = 1, *, isa: str = ISA) -> bytes:
    body = "".join(PO.format(n=n) for n in range(1, transactions + 1))
    group = f"GS*PO*SENDER*RECEIVER*20240101*1200*7*X*005010~\n{body}GE*{transactions}*7~\n"
    return f"{isa}{group}IEA*1*000000042~\n".encode()


def test_separators_are_read_from_the_isa() -> None:
    doc = X12Codec().decode(interchange())
    assert doc["interchange"]["separators"] == {
        "element": "*",
        "component": ":",
        "repetition": "^",
        "segment": "~",
        "line_break": "\n",
    }
    assert doc["interchange"]["ISA"]["ISA13"] == "000000042"


def test_850_segments_are_nested_in_loops_and_repetitions_marked() -> None:
    transaction = X12Codec().decode(interchange())["interchange"]["groups"][0]["transactions"][0]
    ids = [item.get("id") or item["loop"] for item in transaction["segments"]]
    assert ids == ["BEG", "REF", "N1", "PO1", "PO1", "CTT"]
    first_line = transaction["segments"][3]["segments"]
    assert first_line[1] == {
        "loop": "PID",
        "segments": [{"id": "PID", "elements": ["F", "", "", "", "WIDGET"]}],
    }
    second_line = transaction["segments"][4]["segments"][0]
    assert second_line["elements"][-1] == {"repeat": ["XYZ", "UVW"]}


def test_composites_are_lists() -> None:
    data = interchange().replace(b"REF*DP*038", b"REF*DP*038:A:B")
    transaction = X12Codec().decode(data)["interchange"]["groups"][0]["transactions"][0]
    assert transaction["segments"][1] == {"id": "REF", "elements": ["DP", ["038", "A", "B"]]}


def test_unknown_transaction_set_is_flat() -> None:
    data = interchange().replace(b"ST*850", b"ST*123")
    segments = X12Codec().decode(data)["interchange"]["groups"][0]["transactions"][0]["segments"]
    assert all("id" in segment for segment in segments)


def test_generation_is_byte_identical_with_the_recorded_line_break() -> None:
    for data in (
        interchange(3),
        interchange(2).replace(b"~\n", b"~\r\n"),
        interchange(2).replace(b"\n", b""),
    ):
        codec = X12Codec()
        assert codec.encode(codec.decode(data)) == data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((b"SE*10*0001", b"SE*12*0001"), r"^segment 12 \(SE\): SE01 says 12 segments, counted 10"),
        (
            (b"SE*10*0001", b"SE*10*0002"),
            r"^segment 12 \(SE\): SE02 '0002' does not match ST02 '0001'",
        ),
        ((b"GE*1*7", b"GE*2*7"), r"^segment 13 \(GE\): GE01 says 2 transaction sets, counted 1"),
        ((b"GE*1*7", b"GE*1*8"), r"^segment 13 \(GE\): GE02 '8' does not match GS06 '7'"),
        ((b"IEA*1*", b"IEA*3*"), r"^segment 14 \(IEA\): IEA01 says 3 functional groups, counted 1"),
        ((b"IEA*1*000000042", b"IEA*1*000000043"), r"^segment 14 \(IEA\): IEA02 '000000043'"),
        ((b"REF*DP", b"R%F*DP"), r"^segment 5 \(R%F\): bad segment identifier"),
        ((b"IEA*1*000000042~\n", b""), r"^segment 13 \(GE\): the stream ends before IEA"),
        ((b"*00501*", b"*0501*"), r"^segment 1 \(ISA\): ISA12 must be 5 characters, found 4"),
    ],
)
def test_validation_errors_name_segment_and_element(
    change: tuple[bytes, bytes], message: str
) -> None:
    with pytest.raises(CodecError, match=message) as caught:
        X12Codec().decode(interchange().replace(*change))
    assert caught.value.position is not None
    assert caught.value.position.startswith("segment ")


def test_envelope_checks_can_be_relaxed() -> None:
    data = interchange().replace(b"SE*10*0001", b"SE*99*0001")
    codec = X12Codec(X12Options(check_envelope=False))
    assert codec.encode(codec.decode(data)) == data


def test_lenient_isa_accepts_unpadded_elements() -> None:
    isa = "ISA*00**00**ZZ*SENDER*ZZ*RECEIVER*240101*1200*^*00501*000000042*0*P*:~\n"
    data = interchange(isa=isa)
    with pytest.raises(CodecError, match="ISA02 must be 10 characters"):
        X12Codec().decode(data)
    codec = X12Codec(X12Options(lenient_isa=True))
    assert codec.encode(codec.decode(data)) == data


def test_trailers_are_computed_when_absent() -> None:
    codec = X12Codec()
    doc = codec.decode(interchange(2))
    interchange_json = doc["interchange"]
    del interchange_json["IEA"]
    del interchange_json["groups"][0]["GE"]
    for transaction in interchange_json["groups"][0]["transactions"]:
        del transaction["SE"]
    assert codec.encode(doc) == interchange(2)


def test_several_interchanges_decode_to_a_list() -> None:
    doc = X12Codec().decode(interchange() + interchange(2))
    assert [len(i["groups"][0]["transactions"]) for i in doc["interchanges"]] == [1, 2]


@pytest.mark.parametrize("kind", ["997", "999"])
def test_acknowledgement_rejects_a_transaction_whose_count_is_wrong(kind: str) -> None:
    codec = X12Codec(X12Options(check_envelope=False))
    received = codec.decode(interchange(2).replace(b"SE*10*0002", b"SE*11*0002"))
    moment = datetime(2024, 2, 3, 4, 5, tzinfo=UTC)
    ack = acknowledge(received, kind, control_number=99, now=moment)  # type: ignore[arg-type]
    text = codec.encode(ack).decode()
    status = "IK5" if kind == "999" else "AK5"
    assert f"{status}*A~" in text
    assert f"{status}*R*4~" in text
    assert "AK9*P*2*2*1~" in text
    assert (
        "ISA*00*          *00*          *ZZ*RECEIVER       *ZZ*SENDER         *240203*0405*" in text
    )
    assert X12Codec().decode(text.encode()) == ack


def test_iter_decode_yields_each_transaction_with_its_envelope() -> None:
    records = list(X12Codec().iter_decode(io.BytesIO(interchange(3))))
    assert [r["transaction"]["ST"]["ST02"] for r in records] == ["0001", "0002", "0003"]
    assert records[0]["group"]["GS"]["GS06"] == "7"
    assert records[0]["interchange"]["ISA"]["ISA13"] == "000000042"


def test_write_records_regenerates_the_interchange() -> None:
    codec = X12Codec()
    records = codec.iter_decode(io.BytesIO(interchange(3)))
    out = io.BytesIO()
    codec.write_records(records, out)
    assert out.getvalue() == interchange(3)


def _write_large(path: Path, transactions: int) -> None:
    with path.open("wb") as out:
        out.write(ISA.encode() + b"GS*PO*SENDER*RECEIVER*20240101*1200*7*X*005010~\n")
        for start in range(1, transactions + 1, 1000):
            chunk = range(start, min(start + 1000, transactions + 1))
            out.write("".join(PO.format(n=n % 10000) for n in chunk).encode())
        out.write(f"GE*{transactions}*7~\nIEA*1*000000042~\n".encode())


def _streaming_peak(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    count = 0
    with path.open("rb") as stream:
        for _ in X12Codec().iter_decode(stream):
            count += 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return count, peak


def test_streaming_memory_does_not_grow_with_size(tmp_path: Path) -> None:
    small, large = tmp_path / "small.x12", tmp_path / "large.x12"
    _write_large(small, 2_000)
    _write_large(large, 8_000)
    small_count, small_peak = _streaming_peak(small)
    large_count, large_peak = _streaming_peak(large)
    assert (small_count, large_count) == (2_000, 8_000)
    assert large_peak < small_peak * 1.5 + 100_000


@pytest.mark.slow
def test_streaming_a_50_mb_interchange(tmp_path: Path) -> None:
    path = tmp_path / "big.x12"
    _write_large(path, 300_000)
    assert path.stat().st_size > 50_000_000
    count, peak = _streaming_peak(path)
    assert count == 300_000
    assert peak < 5_000_000


def test_spec_builds_the_codec() -> None:
    codec: Any = SPEC.build(SPEC.parse({"lenient_isa": True}), None)
    assert isinstance(codec, X12Codec)
    assert codec.options.lenient_isa
