"""The xml codec's records: written and read one at a time, in constant memory.

``write_records`` must give the bytes ``encode`` gives for the list (plus a newline), on the
fast path for text rows and on the general path alike; ``iter_decode`` yields the children
of the root with the same hardening as ``decode``.
"""

from __future__ import annotations

import io
import random
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from splice.codecs import get_codec
from splice.codecs.xml import XmlCodec, XmlOptions
from splice.errors import CodecError

codec = XmlCodec()
csv = get_codec("csv")


def _written(xml: XmlCodec, records: list[Any]) -> bytes:
    out = io.BytesIO()
    xml.write_records(iter(records), out)
    return out.getvalue()


def _expected(xml: XmlCodec, records: list[Any]) -> bytes:
    newline = "\n".encode("utf-16-le" if xml.options.encoding == "utf-16" else "ascii")
    encoded = xml.encode(records)
    return encoded if encoded.endswith(newline) else encoded + newline


VALUES: list[Any] = [
    "",
    "x",
    " ",
    "a&b<c>d\r\n\t",
    "é€😀",
    "{}{0}%s%%",
    "\x85",
    3,
    None,
    1.5,
    True,
    {"z": "1"},
    {"z": ""},
    ["p", "q"],
    {"@id": 'x&"', "#text": "t"},
]


def _record(rnd: random.Random) -> Any:
    keys = ["a", "b-c", "d.e", "_f", "g", "xmlq"]
    row = {key: rnd.choice(VALUES) for key in rnd.sample(keys, rnd.randrange(0, 6))}
    return rnd.choice([row, row, row, "s", "", None, 7, [1, 2], {"@at": "v", "k": "w"}])


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"pretty": True},
        {"declaration": False},
        {"root": "batch", "item": "row"},
        {"encoding": "ascii"},
        {"encoding": "utf-16"},
        {"encoding": "cp1252", "pretty": True},
        {"encoding": "latin-1"},
    ],
)
def test_written_records_are_what_encode_writes_for_their_list(options: dict[str, Any]) -> None:
    xml = XmlCodec(XmlOptions(**options))
    rnd = random.Random(7)
    for _ in range(200):
        records = [_record(rnd) for _ in range(rnd.randrange(0, 6))]
        assert _written(xml, records) == _expected(xml, records), records


def test_text_rows_and_no_records() -> None:
    rows = [{"id": "1", "name": "a & b", "note": None}, {"id": "2", "name": "<c>", "note": "x"}]
    assert _written(codec, rows) == (
        b"<?xml version='1.0' encoding='utf-8'?>\n<root>"
        b"<item><id>1</id><name>a &amp; b</name><note/></item>"
        b"<item><id>2</id><name>&lt;c&gt;</name><note>x</note></item></root>\n"
    )
    assert _written(codec, rows) == _expected(codec, rows)
    assert _written(codec, []) == b"<?xml version='1.0' encoding='utf-8'?>\n<root/>\n"


@pytest.mark.parametrize(
    ("record", "path"),
    [
        ({"bad name": "x"}, "root.item[1].bad name"),
        ({"a": "\x00"}, "root.item[1].a"),
        ({"a": {"b": object()}}, "root.item[1].a.b"),
        ({1: "x"}, "root.item[1]"),
    ],
)
def test_a_record_that_cannot_be_xml_names_its_place(record: Any, path: str) -> None:
    with pytest.raises(CodecError) as caught:
        _written(codec, [{"ok": "1"}, record])
    assert caught.value.position == path
    assert str(caught.value).count("(at ") == 1


def test_records_are_the_children_of_the_root_whatever_their_name() -> None:
    doc = (
        b'<?xml version="1.0"?>\n<!-- note --><orders xmlns:p="urn:p" batch="7">'
        b'<order id="1"><p:sku>X</p:sku></order>stray text<other>y</other><empty/></orders>'
    )
    records = list(codec.iter_decode(io.BytesIO(doc)))
    assert records == [{"@xmlns:p": "urn:p", "@id": "1", "p:sku": "X"}, "y", None]
    rewritten = _written(codec, records[:1])
    assert codec.decode(rewritten) == {
        "root": {"item": {"@xmlns:p": "urn:p", "@id": "1", "p:sku": "X"}}
    }


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b"", r"Document is empty|no element found.*\(at line 1, column 1\)"),
        (b"<a><b>1</b>", r"not well-formed XML.*\(at line 1, column 12\)"),
        (b"<a>\n<b></a>", r"not well-formed XML.*\(at line 2, column 8\)"),
        (b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "DOCTYPE is refused"),
        (b"<a>" + b"<b>" * 300 + b"</b>" * 300 + b"</a>", "not well-formed XML"),
    ],
)
def test_streamed_reading_refuses_what_decode_refuses(doc: bytes, message: str) -> None:
    with pytest.raises(CodecError, match=message):
        list(codec.iter_decode(io.BytesIO(doc)))


def test_an_entity_declaration_is_refused_even_with_allow_dtd() -> None:
    doc = b'<!DOCTYPE a [<!ENTITY x "y">]><a><b>&x;</b></a>'
    with pytest.raises(CodecError, match="entities is refused"):
        list(XmlCodec(XmlOptions(allow_dtd=True)).iter_decode(io.BytesIO(doc)))


def test_max_bytes_bounds_one_record_and_max_depth_applies() -> None:
    small = XmlCodec(XmlOptions(max_bytes=100_000))
    many = b"<r>" + b"<i>x</i>" * 50_000 + b"</r>"
    assert sum(1 for _ in small.iter_decode(io.BytesIO(many))) == 50_000
    huge = b"<r><i>" + b"x" * 300_000 + b"</i></r>"
    with pytest.raises(CodecError, match="record larger than max_bytes"):
        list(small.iter_decode(io.BytesIO(huge)))
    with pytest.raises(CodecError, match="max_depth"):
        list(XmlCodec(XmlOptions(max_depth=2)).iter_decode(io.BytesIO(b"<r><i><j/></i></r>")))


def test_csv_to_xml_to_csv_is_identical() -> None:
    source = (
        'id,name,note,amount\n1,"Bolt, zinc",,3.50\n2,Zoë & <Co>,"say ""hi""",\n'
        '3,"two\nlines", x ,0\n'
    ).encode()
    xml = io.BytesIO()
    codec.write_records(csv.iter_decode(io.BytesIO(source)), xml)
    back = io.BytesIO()
    csv.write_records(codec.iter_decode(io.BytesIO(xml.getvalue())), back)
    assert back.getvalue() == source


def _csv_file(path: Path, rows: int) -> Path:
    with path.open("w") as out:
        out.write("order_id,sku,description,qty\n")
        for n in range(rows):
            out.write(f'ORD-{n:07d},SKU-{n % 977},"Bolt, zinc M{n % 20}",{n % 100}\n')
    return path


def _peak(convert: Any) -> int:
    tracemalloc.start()
    try:
        convert()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _count(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for _ in codec.iter_decode(stream))


def test_csv_to_xml_and_back_stream_in_constant_memory(tmp_path: Path) -> None:
    """Ten times the rows, about the same peak: no record is held longer than its turn."""
    written, read = {}, {}
    for rows in (5_000, 50_000):
        source = _csv_file(tmp_path / f"{rows}.csv", rows)
        target = tmp_path / f"{rows}.xml"
        with source.open("rb") as inp, target.open("wb") as out:
            written[rows] = _peak(lambda i=inp, o=out: codec.write_records(csv.iter_decode(i), o))
        counted: list[int] = []
        read[rows] = _peak(lambda t=target, c=counted: c.append(_count(t)))
        assert counted == [rows]
    assert written[50_000] < 2 * written[5_000], written
    assert read[50_000] < 2 * read[5_000], read
