"""A mapping cannot reach environment variables, files or Python."""

from __future__ import annotations

import pytest
from jsonata import Jsonata

from splice.errors import MappingError
from splice.mapping import UNDEFINED, compile_mapping

# The whole JSONata function library as jsonata-python 0.7.1 ships it. None of these touch
# the environment, files or Python. A new function in an upgrade fails this test: review it.
REVIEWED = {
    "abs", "append", "assert", "average", "base64decode", "base64encode", "boolean", "ceil",
    "clone", "contains", "count", "decodeUrl", "decodeUrlComponent", "distinct", "each",
    "encodeUrl", "encodeUrlComponent", "error", "eval", "exists", "filter", "floor",
    "formatBase", "formatInteger", "formatNumber", "fromMillis", "join", "keys", "length",
    "lookup", "lowercase", "map", "match", "max", "merge", "millis", "min", "not", "now",
    "number", "pad", "parseInteger", "power", "random", "reduce", "replace", "reverse",
    "round", "shuffle", "sift", "single", "sort", "split", "spread", "sqrt", "string",
    "substring", "substringAfter", "substringBefore", "sum", "toMillis", "trim", "type",
    "uppercase", "zip",
}  # fmt: skip


def test_function_library_is_reviewed() -> None:
    assert set(Jsonata.static_frame.bindings) == REVIEWED


@pytest.mark.parametrize(
    "expression",
    [
        "$eval(\"__import__('os').environ\")",
        "$environ",
        '$env("HOME")',
        '$readFile("/etc/passwd")',
        "$open",
        "$__import__",
    ],
)
def test_no_way_out(expression: str) -> None:
    try:
        result = compile_mapping(expression).evaluate({})
    except MappingError:
        return
    assert result is UNDEFINED


def test_python_attributes_are_not_reachable() -> None:
    assert compile_mapping("__class__").evaluate({}) is UNDEFINED
    assert compile_mapping("a.__class__.__init__").evaluate({"a": "x"}) is UNDEFINED
    assert compile_mapping("$keys(a)").evaluate({"a": "x"}) is UNDEFINED
