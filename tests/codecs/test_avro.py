"""The avro codec: container files and schemaless datums, with fastavro."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest

from splice.codecs import CodecOptionError, get_codec
from splice.errors import CodecError
from splice.schemas import SchemaRegistry
from splice.store import Store

ORDER: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "id", "type": "string"},
        {
            "name": "lines",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Line",
                    "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}],
                },
            },
        },
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
RECORDS = [
    {"id": "A1", "lines": [{"sku": "X", "qty": 2}], "note": None},
    {"id": "A2", "lines": [], "note": "rush"},
]


def test_container_round_trip_and_streaming() -> None:
    codec = get_codec("avro", {"schema": ORDER, "compression": "deflate"})
    data = codec.encode(RECORDS)
    assert data.startswith(b"Obj\x01")
    assert codec.decode(data) == RECORDS
    assert list(codec.iter_decode(io.BytesIO(data))) == RECORDS
    out = io.BytesIO()
    codec.write_records(iter(RECORDS), out)
    assert get_codec("avro").decode(out.getvalue()) == RECORDS  # the file carries its schema


def test_schemaless_datum_round_trip_from_an_avsc_file(tmp_path: Path) -> None:
    (tmp_path / "order.avsc").write_bytes(orjson.dumps(ORDER))
    codec = get_codec("avro", {"schema": "order.avsc", "container": False}, base_dir=tmp_path)
    data = codec.encode(RECORDS[0])
    assert codec.decode(data) == RECORDS[0]


def test_a_schema_mismatch_names_the_field() -> None:
    codec = get_codec("avro", {"schema": ORDER, "container": False})
    bad = {"id": "A1", "lines": [{"sku": "X", "qty": "two"}], "note": None}
    with pytest.raises(CodecError, match=r"field 'Order\.lines\.Line\.qty': 'two'"):
        codec.encode(bad)
    with pytest.raises(CodecError, match=r"field 'Order\.id'"):
        get_codec("avro", {"schema": ORDER}).encode([{"id": 5, "lines": []}])


def test_an_unknown_field_is_a_mismatch_not_a_silent_drop() -> None:
    codec = get_codec("avro", {"schema": ORDER, "container": False})
    with pytest.raises(CodecError, match="field 'total' is not in the Avro schema"):
        codec.encode({**RECORDS[0], "total": 3})
    lines = [{"sku": "X", "qty": 1, "colour": "red"}]
    with pytest.raises(CodecError, match=r"field 'lines\[0\]\.colour'"):
        codec.encode({**RECORDS[0], "lines": lines})


def test_bad_bytes_are_codec_errors_with_a_position() -> None:
    schemaless = get_codec("avro", {"schema": ORDER, "container": False})
    with pytest.raises(CodecError, match="not an Avro datum"):
        schemaless.decode(b"\x04A")
    with pytest.raises(CodecError, match="bytes left after the Avro datum"):
        schemaless.decode(schemaless.encode(RECORDS[0]) + b"\x00")
    with pytest.raises(CodecError, match="not a readable Avro container"):
        get_codec("avro").decode(b"not avro at all")


def test_container_data_is_resolved_against_the_reader_schema() -> None:
    data = get_codec("avro", {"schema": ORDER}).encode(RECORDS)
    reader = {**ORDER, "fields": [*ORDER["fields"], {"name": "prio", "type": "int", "default": 0}]}
    assert get_codec("avro", {"schema": reader}).decode(data)[0]["prio"] == 0


def test_options_are_checked() -> None:
    with pytest.raises(CodecOptionError, match="needs a schema"):
        get_codec("avro", {"container": False})
    with pytest.raises(CodecOptionError, match="not a valid schema"):
        get_codec("avro", {"schema": {"type": "nope"}})
    with pytest.raises(CodecOptionError, match="cannot read"):
        get_codec("avro", {"schema": "missing.avsc"}, base_dir=Path("/nonexistent"))


async def test_schema_from_the_registry_by_subject_and_version(tmp_path: Path) -> None:
    store = await Store.open("sqlite:///.splice/state.db", project_dir=tmp_path)
    try:
        await SchemaRegistry(store.schemas).register("order", orjson.dumps(ORDER).decode(), "avro")
    finally:
        await store.close()
    codec = get_codec("avro", {"schema": "order@1", "container": False}, base_dir=tmp_path)
    assert codec.decode(codec.encode(RECORDS[1])) == RECORDS[1]
