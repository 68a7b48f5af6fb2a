"""Parsing schema documents of the three kinds, and their normalised form.

``parse`` checks that a text is a schema of its kind (JSON Schema: a JSON object; Avro:
a schema that fastavro accepts; XSD: an ``xs:schema`` document, parsed without DTDs,
entities or network) and ``fingerprint`` is the SHA-256 of its normalised form (sorted-key
JSON; canonical XML without blank text), so that re-registering the same schema with other
whitespace or key order finds the existing version.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import orjson
from lxml import etree  # type: ignore[import-untyped]

from splice.errors import SpliceError
from splice.schemas._avro import avro_changes
from splice.schemas._changes import Change
from splice.schemas._json import json_changes
from splice.schemas._xsd import XS, xsd_changes

__all__ = ["SCHEMA_TYPES", "InvalidSchema", "SchemaType", "changes", "fingerprint", "parse"]

SchemaType = Literal["json", "avro", "xsd"]
SCHEMA_TYPES: tuple[SchemaType, ...] = ("json", "avro", "xsd")


class InvalidSchema(SpliceError):
    """The text is not a schema of the declared type."""

    code = "schema-invalid"


def parse(text: str, schema_type: str) -> Any:
    """The parsed schema (a dict, an Avro schema, an lxml element); InvalidSchema if not one."""
    if schema_type == "xsd":
        return _parse_xsd(text)
    if schema_type not in SCHEMA_TYPES:
        raise InvalidSchema(f"unknown schema type '{schema_type}' (use json, avro or xsd)")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidSchema(f"{schema_type} schema is not valid JSON: {exc}") from exc
    if schema_type == "avro":
        _check_avro(value)
    elif not isinstance(value, dict):
        raise InvalidSchema("a JSON Schema must be a JSON object")
    return value


def _check_avro(value: Any) -> None:
    import fastavro

    try:
        fastavro.parse_schema(value, _write_hint=False)
    except Exception as exc:  # fastavro raises several unrelated exception types
        raise InvalidSchema(f"not a valid Avro schema: {exc}") from exc


def _parse_xsd(text: str) -> etree._Element:
    from splice.codecs.xml import safe_parser

    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise InvalidSchema("an XSD with a DOCTYPE or entities is refused")
    parser = safe_parser()
    try:
        root = etree.fromstring(text.encode(), parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidSchema(f"not well-formed XML: {exc}") from exc
    if root.tag != f"{XS}schema":
        raise InvalidSchema(f"an XSD's root must be xs:schema, not {root.tag}")
    return root


def normalised(parsed: Any, schema_type: str) -> bytes:
    if schema_type == "xsd":
        copy = etree.fromstring(etree.tostring(parsed), etree.XMLParser(remove_blank_text=True))
        data: bytes = etree.tostring(copy, method="c14n")
        return data
    return orjson.dumps(parsed, option=orjson.OPT_SORT_KEYS)


def fingerprint(parsed: Any, schema_type: str) -> str:
    return hashlib.sha256(normalised(parsed, schema_type)).hexdigest()


def changes(schema_type: str, old: Any, new: Any) -> list[Change]:
    """Every change from ``old`` to ``new`` (parsed schemas of the same type)."""
    if schema_type == "avro":
        return avro_changes(old, new)
    if schema_type == "xsd":
        return xsd_changes(old, new)
    return json_changes(old, new)
