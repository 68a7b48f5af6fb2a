"""validate: every violation with its place, for JSON Schema and for XSD."""

from __future__ import annotations

from pathlib import Path

import pytest

from splice.components import registry
from splice.components.context import Context
from splice.components.interfaces import Step
from splice.errors import ConfigError, ContractViolation
from splice.message import Message

SCHEMA = """{
  "type": "object", "required": ["id", "qty"],
  "properties": {"id": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}
}"""
XSD = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="order">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="id" type="xs:string"/>
        <xs:element name="qty" type="xs:positiveInteger"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


def build(tmp_path: Path, name: str, text: str) -> Step:
    (tmp_path / name).write_text(text)
    spec = registry.get("step", "validate")
    config = spec.parse({"schema": name}, context={"project_dir": tmp_path})
    step: Step = spec.build(config, Context(tmp_path, "orders"))
    return step


async def test_json_schema_violations_are_all_listed_with_their_pointer(tmp_path: Path) -> None:
    step = build(tmp_path, "order.json", SCHEMA)
    with pytest.raises(ContractViolation) as raised:
        await step.process(Message({"id": 7, "qty": 0}))
    assert raised.value.errors == [
        ("/id", "7 is not of type 'string'"),
        ("/qty", "0 is less than the minimum of 1"),
    ]
    assert await step.process(Message({"id": "A", "qty": 2})) != []


async def test_xsd_violations_name_the_xpath_and_line(tmp_path: Path) -> None:
    step = build(tmp_path, "order.xsd", XSD)
    bad = b"<order>\n  <id>A-1</id>\n  <qty>two</qty>\n</order>"
    with pytest.raises(ContractViolation) as raised:
        await step.process(Message(bad, content_type="application/xml"))
    [(where, what)] = raised.value.errors
    assert where == "/order/qty (line 3)"
    assert "'two' is not a valid value" in what


async def test_xsd_accepts_xml_bytes_and_data_decoded_from_xml(tmp_path: Path) -> None:
    step = build(tmp_path, "order.xsd", XSD)
    good = b"<order><id>A-1</id><qty>2</qty></order>"
    assert await step.process(Message(good)) != []
    assert await step.process(Message({"order": {"id": "A-1", "qty": "2"}})) != []


async def test_xsd_refuses_a_doctype_in_the_message(tmp_path: Path) -> None:
    from splice.errors import CodecError

    step = build(tmp_path, "order.xsd", XSD)
    attack = b'<!DOCTYPE order [<!ENTITY x "y">]><order><id>&x;</id><qty>1</qty></order>'
    with pytest.raises(CodecError):
        await step.process(Message(attack))


def test_a_missing_schema_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    from pydantic import ValidationError

    spec = registry.get("step", "validate")
    with pytest.raises(ValidationError, match=r"schema file not found: nope\.xsd"):
        spec.parse({"schema": "nope.xsd"}, context={"project_dir": tmp_path})


def test_a_broken_xsd_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a valid XSD"):
        build(tmp_path, "bad.xsd", "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><x")


async def test_a_registry_reference_validates_against_that_version(tmp_path: Path) -> None:
    from splice.schemas import SchemaRegistry
    from splice.store import Store

    store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    try:
        registry_ = SchemaRegistry(store.schemas)
        await registry_.register("order", SCHEMA, "json")
        spec = registry.get("step", "validate")
        config = spec.parse({"schema": "order@latest"}, context={"project_dir": tmp_path})
        step: Step = spec.build(config, Context(tmp_path, "orders", store=store))
        await step.open()
        with pytest.raises(ContractViolation) as raised:
            await step.process(Message({"id": "A", "qty": 0}))
        assert raised.value.schema == "order@1"
        assert await step.process(Message({"id": "A", "qty": 1})) != []
    finally:
        await store.close()


async def test_an_unknown_registry_reference_fails_at_open(tmp_path: Path) -> None:
    from splice.errors import SpliceError
    from splice.store import Store

    store = await Store.open("sqlite:///state.db", project_dir=tmp_path)
    try:
        spec = registry.get("step", "validate")
        step: Step = spec.build(
            spec.parse({"schema": "nope@2"}), Context(tmp_path, "o", store=store)
        )
        with pytest.raises(SpliceError, match="subject 'nope' has no version 2"):
            await step.open()
    finally:
        await store.close()
