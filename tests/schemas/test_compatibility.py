"""Tables of schema evolutions × compatibility modes, with the expected verdicts."""

from __future__ import annotations

import copy
import io
from typing import Any

import fastavro
import orjson
import pytest

from splice.schemas import Compatibility, breaking, parse, schema_changes

B, F, FULL, NONE = "BACKWARD", "FORWARD", "FULL", "NONE"


def verdicts(schema_type: str, old: str, new: str) -> dict[str, bool]:
    found = schema_changes(schema_type, parse(old, schema_type), parse(new, schema_type))
    return {mode: not breaking(Compatibility(mode), found) for mode in (B, F, FULL, NONE)}


def messages(schema_type: str, old: str, new: str) -> list[str]:
    found = schema_changes(schema_type, parse(old, schema_type), parse(new, schema_type))
    return [c.description for c in found]


# -- JSON Schema ---------------------------------------------------------------------------

JSON_BASE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "qty": {"type": "integer"},
        "total": {"type": "number"},
        "status": {"enum": ["new", "paid"]},
    },
    "required": ["id", "qty"],
}


def json_evolve(change: str) -> str:
    schema = copy.deepcopy(JSON_BASE)
    props, required = schema["properties"], schema["required"]
    if change == "add optional field":
        props["note"] = {"type": "string"}
    elif change == "add required field":
        props["note"] = {"type": "string"}
        required.append("note")
    elif change == "remove optional field":
        del props["total"]
    elif change == "remove required field":
        del props["qty"]
        required.remove("qty")
    elif change == "widen type":
        props["qty"] = {"type": "number"}
    elif change == "narrow type":
        props["total"] = {"type": "integer"}
    elif change == "change type":
        props["qty"] = {"type": "string"}
    elif change == "rename required field":
        props["quantity"] = props.pop("qty")
        required[required.index("qty")] = "quantity"
    elif change == "add enum value":
        props["status"] = {"enum": ["new", "paid", "shipped"]}
    elif change == "remove enum value":
        props["status"] = {"enum": ["new"]}
    elif change == "close object":
        schema["additionalProperties"] = False
    return orjson.dumps(schema).decode()


#                       change                    BACKWARD FORWARD FULL  NONE   a message
JSON_TABLE = [
    ("add optional field", True, True, True, True, "field 'note' added"),
    ("add required field", False, True, False, True, "field 'note' added as required"),
    ("remove optional field", True, True, True, True, "field 'total' removed"),
    ("remove required field", True, False, False, True, "field 'qty' removed"),
    ("widen type", True, False, False, True, "type of 'qty' changed from integer to number"),
    ("narrow type", False, True, False, True, "type of 'total' changed from number to integer"),
    ("change type", False, False, False, True, "type of 'qty' changed from integer to string"),
    ("rename required field", False, False, False, True, "field 'qty' removed"),
    ("add enum value", True, False, False, True, "enum of 'status' gained 'shipped'"),
    ("remove enum value", False, True, False, True, "enum of 'status' lost 'paid'"),
    ("close object", False, True, False, True, "'(root)' closed to additional properties"),
]


@pytest.mark.parametrize(("change", "back", "fwd", "full", "none", "message"), JSON_TABLE)
def test_json_schema_evolution(
    change: str, back: bool, fwd: bool, full: bool, none: bool, message: str
) -> None:
    old, new = orjson.dumps(JSON_BASE).decode(), json_evolve(change)
    assert verdicts("json", old, new) == {B: back, F: fwd, FULL: full, NONE: none}
    assert message in messages("json", old, new)


def test_json_nested_objects_arrays_and_refs_are_walked() -> None:
    old = {
        "$defs": {"line": {"type": "object", "properties": {"qty": {"type": "integer"}}}},
        "type": "object",
        "properties": {"lines": {"type": "array", "items": {"$ref": "#/$defs/line"}}},
    }
    new = copy.deepcopy(old)
    new["$defs"]["line"]["properties"]["qty"] = {"type": "string"}
    found = messages("json", orjson.dumps(old).decode(), orjson.dumps(new).decode())
    assert found == ["type of 'lines[].qty' changed from integer to string"]


# -- Avro ----------------------------------------------------------------------------------

AVRO_BASE: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "qty", "type": "int"},
        {"name": "total", "type": "double", "default": 0.0},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
    ],
}


def avro_evolve(change: str) -> dict[str, Any]:
    schema = copy.deepcopy(AVRO_BASE)
    fields: list[dict[str, Any]] = schema["fields"]
    by_name = {f["name"]: f for f in fields}
    if change == "add field with default":
        fields.append({"name": "note", "type": ["null", "string"], "default": None})
    elif change == "add field without default":
        fields.append({"name": "note", "type": "string"})
    elif change == "remove field with default":
        fields.remove(by_name["total"])
    elif change == "remove field without default":
        fields.remove(by_name["qty"])
    elif change == "widen type":
        by_name["qty"]["type"] = "long"
    elif change == "narrow type":
        by_name["total"]["type"] = "float"
    elif change == "change type":
        by_name["qty"]["type"] = "string"
    elif change == "rename field":
        by_name["qty"]["name"] = "quantity"
    elif change == "rename field with alias":
        by_name["qty"]["name"] = "quantity"
        by_name["qty"]["aliases"] = ["qty"]
    elif change == "make field nullable":
        by_name["id"]["type"] = ["null", "string"]
    elif change == "add enum symbol":
        by_name["status"]["type"]["symbols"] = ["NEW", "PAID", "SHIPPED"]
    return schema


AVRO_TABLE = [
    ("add field with default", True, True, True, True, "field 'note' added"),
    ("add field without default", False, True, False, True, "field 'note' added without a default"),
    ("remove field with default", True, True, True, True, "field 'total' removed"),
    ("remove field without default", True, False, False, True, "field 'qty' removed"),
    ("widen type", True, False, False, True, "type of 'qty' changed from int to long"),
    ("narrow type", False, True, False, True, "type of 'total' changed from double to float"),
    ("change type", False, False, False, True, "type of 'qty' changed from int to string"),
    ("rename field", False, False, False, True, "field 'quantity' added without a default"),
    ("rename field with alias", True, False, False, True, "field 'qty' removed"),
    (
        "make field nullable",
        True,
        False,
        False,
        True,
        "type of 'id' changed from string to null|string",
    ),
    ("add enum symbol", True, False, False, True, "enum 'status' gained SHIPPED"),
]


@pytest.mark.parametrize(("change", "back", "fwd", "full", "none", "message"), AVRO_TABLE)
def test_avro_evolution(
    change: str, back: bool, fwd: bool, full: bool, none: bool, message: str
) -> None:
    old, new = orjson.dumps(AVRO_BASE).decode(), orjson.dumps(avro_evolve(change)).decode()
    assert verdicts("avro", old, new) == {B: back, F: fwd, FULL: full, NONE: none}
    assert message in messages("avro", old, new)


def _fastavro_reads(writer: dict[str, Any], reader: dict[str, Any], record: Any) -> bool:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(writer), record)
    buffer.seek(0)
    try:
        fastavro.schemaless_reader(
            buffer, fastavro.parse_schema(writer), fastavro.parse_schema(reader)
        )
    except Exception:
        return False
    return True


@pytest.mark.parametrize("row", AVRO_TABLE, ids=[row[0] for row in AVRO_TABLE])
def test_avro_backward_verdict_agrees_with_fastavro_reading_old_data(row: tuple[Any, ...]) -> None:
    """The checker and fastavro's own resolution agree: new reader, old data."""
    change, back = row[0], row[1]
    record = {"id": "A1", "qty": 3, "total": 9.5, "status": "PAID"}
    assert _fastavro_reads(AVRO_BASE, avro_evolve(change), record) == back


# -- XSD -----------------------------------------------------------------------------------

XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="order"><xs:complexType><xs:sequence>
    <xs:element name="id" type="xs:string"/>
    <xs:element name="qty" type="{qty}"/>
    <xs:element name="note" type="xs:string" minOccurs="{note_min}"/>{extra}
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""


def xsd(qty: str = "xs:int", note_min: str = "0", extra: str = "") -> str:
    return XSD.format(qty=qty, note_min=note_min, extra=extra)


XSD_TABLE = [
    (
        "add optional element",
        xsd(extra='<xs:element name="ref" type="xs:string" minOccurs="0"/>'),
        True,
        False,
        "element 'order.ref' added",
    ),
    (
        "add required element",
        xsd(extra='<xs:element name="ref" type="xs:string"/>'),
        False,
        False,
        "element 'order.ref' added as required",
    ),
    (
        "remove optional element",
        xsd().replace('<xs:element name="note" type="xs:string" minOccurs="0"/>', ""),
        False,
        True,
        "element 'order.note' removed",
    ),
    ("widen type", xsd(qty="xs:long"), True, False, "type of 'order.qty' changed from int to long"),
    (
        "change type",
        xsd(qty="xs:date"),
        False,
        False,
        "type of 'order.qty' changed from int to date",
    ),
    (
        "raise minOccurs",
        xsd(note_min="1"),
        False,
        True,
        "minOccurs of 'order.note' changed from 0 to 1",
    ),
]


@pytest.mark.parametrize(("change", "new", "back", "fwd", "message"), XSD_TABLE)
def test_xsd_evolution(change: str, new: str, back: bool, fwd: bool, message: str) -> None:
    assert verdicts("xsd", xsd(), new) == {B: back, F: fwd, FULL: back and fwd, NONE: True}
    assert message in messages("xsd", xsd(), new)
