"""The schema registry: versioned JSON Schema, XSD and Avro subjects with compatibility.

``SchemaRegistry(store.schemas)`` registers versions under a subject's compatibility mode
(Confluent's BACKWARD, FORWARD, FULL, their ``_TRANSITIVE`` variants, NONE) and refuses a
breaking one with the list of changes. See ``docs/guides/schema-registry.md``.
"""

from splice.schemas._changes import Change, Compatibility, breaking
from splice.schemas._documents import SCHEMA_TYPES, InvalidSchema, SchemaType, parse
from splice.schemas._documents import changes as schema_changes
from splice.schemas._registry import (
    IncompatibleSchema,
    Registered,
    SchemaNotFound,
    SchemaRegistry,
    parse_reference,
    subject_for_file,
)

__all__ = [
    "SCHEMA_TYPES",
    "Change",
    "Compatibility",
    "IncompatibleSchema",
    "InvalidSchema",
    "Registered",
    "SchemaNotFound",
    "SchemaRegistry",
    "SchemaType",
    "breaking",
    "parse",
    "parse_reference",
    "schema_changes",
    "subject_for_file",
]
