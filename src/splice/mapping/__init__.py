"""Mappings: JSONata expressions compiled once, with exact money and project lookup tables.

See ``docs/guides/mapping.md``. ``compile_mapping(expr).evaluate(data)`` returns the result
or :data:`UNDEFINED`; every failure is a :class:`~splice.errors.MappingError`.
"""

from __future__ import annotations

from splice.mapping._lookups import LookupTables
from splice.mapping._mapping import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_TIMEOUT,
    UNDEFINED,
    Mapping,
    compile_mapping,
)

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_TIMEOUT",
    "UNDEFINED",
    "LookupTables",
    "Mapping",
    "compile_mapping",
]
