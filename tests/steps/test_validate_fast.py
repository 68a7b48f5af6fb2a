"""validate's compiled JSON Schema check answers exactly as python-jsonschema does.

The step accepts a body at once when jsonschema-rs says it is valid and otherwise asks
python-jsonschema, so the compiled check must never accept what python-jsonschema refuses —
and, for the schemas it takes on, should accept what python-jsonschema accepts.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import functools
import json as stdlib_json
import math
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from splice.codecs.json import dumps, loads, loads_plain
from splice.errors import CodecError, ContractViolation
from splice.flowtest._strategies import any_json, from_schema
from splice.message import Message
from splice.steps.validate import JsonSchemaValidateStep, compile_check

pytest.importorskip("jsonschema_rs")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SCHEMAS = sorted(
    [*ROOT.glob("examples/*/schemas/*.json"), *ROOT.glob("bench/projects/*/schemas/*.json")]
)
BENCH_SCHEMA = ROOT / "bench/projects/http-json-xml/schemas/order.schema.json"

# Schemas the compiled check takes on, between them using every keyword it compiles.
COMPILED: list[dict[str, Any]] = [
    {
        "type": "object",
        "required": ["price"],
        "properties": {
            "price": {"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0},
            "code": {"type": "string", "pattern": "^[A-Z]{2}\\d+$"},
            "word": {"type": "string", "pattern": "\\w\\s\\b."},
        },
    },
    {
        "$id": "https://example.com/lines.json",
        "$defs": {
            "line": {
                "$anchor": "line",
                "type": "object",
                "required": ["sku"],
                "properties": {"sku": {"type": "string"}, "qty": {"$ref": "#/$defs/qty"}},
            },
            "qty": {"type": "integer", "minimum": 1, "maximum": 2**53},
        },
        "type": "array",
        "items": {"$ref": "#line"},
        "uniqueItems": True,
    },
    {
        "oneOf": [{"type": "integer"}, {"type": "number", "exclusiveMinimum": 0}],
        "not": {"const": 3},
    },
    {
        "if": {"properties": {"kind": {"const": "b2b"}}},
        "then": {"required": ["vat"]},
        "else": {"not": {"required": ["vat"]}},
        "propertyNames": {"pattern": "^[a-z]+$", "maxLength": 8},
        "dependentRequired": {"a": ["b"]},
        "dependentSchemas": {"c": {"minProperties": 3}},
    },
    {
        "type": "array",
        "prefixItems": [{"type": "string"}, {"enum": [1, 1.5, "x", None, [1], {"a": 1}]}],
        "items": {"type": "boolean"},
        "contains": {"type": "boolean"},
        "minContains": 1,
        "maxContains": 2,
    },
    {"not": {"pattern": "^[0-9]+$"}, "format": "date-time"},
    {
        "anyOf": [
            {"type": "string", "minLength": 2, "maxLength": 4},
            {"type": "null"},
            {"type": "integer", "multipleOf": 3},
        ]
    },
    {
        "additionalProperties": {"type": "integer", "exclusiveMaximum": 2**53 - 1},
        "maxProperties": 3,
        "minProperties": 1,
    },
    {"type": "array", "maxItems": 3, "items": {"type": ["number", "boolean"], "maximum": 1e20}},
]

# Schemas left to python-jsonschema: their keywords mean something else to jsonschema-rs.
PYTHON_ONLY: list[dict[str, Any]] = [
    {"properties": {"a": {}}, "unevaluatedProperties": False},
    {"patternProperties": {"^x-\\d$": {"type": "string"}}, "additionalProperties": False},
    {"dependencies": {"a": ["b"]}},
    {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"},
    {"$ref": "https://json-schema.org/draft/2020-12/schema"},
    {"$ref": "https://example.com/elsewhere.json"},
    {"$defs": {"a": {"$dynamicAnchor": "a"}}, "$dynamicRef": "#a"},
    {"type": "integer", "maximum": 2**53 + 1},
]


def _replaced(value: Any, path: tuple[Any, ...], new: Any, drop: bool) -> Any:
    if not path:
        return new
    value = copy.deepcopy(value)
    parent = value
    for part in path[:-1]:
        parent = parent[part]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return value


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [here]
    if isinstance(value, dict | list):
        for key, child in value.items() if isinstance(value, dict) else enumerate(value):
            paths += _paths(child, (*here, key))
    return paths


EDGE_NUMBERS = st.sampled_from(
    [0.07, 0.1, 0.3, 1.0, 3.0, 1e20, 1e300, 2.0**53, 2**53, 2**53 + 1, -(2**53) - 1, 2**63, 2**64]
)
EDGE_STRINGS = st.sampled_from(["ABC\n", "AB12\n", "AB١٢", "a\ufeff\u00a0", "٣", "b2b", "x-1"])


def instances(schema: Any) -> st.SearchStrategy[Any]:
    """Mostly valid values, values with one part changed or dropped, and any JSON."""
    near = from_schema(schema)
    leaves = any_json() | EDGE_NUMBERS | EDGE_STRINGS
    changed = near.flatmap(
        lambda value: st.builds(
            _replaced, st.just(value), st.sampled_from(_paths(value)), leaves, st.booleans()
        )
    )
    return near | changed | any_json() | leaves


AGREEMENT = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


AGREED = [orjson.loads(path.read_bytes()) for path in EXAMPLE_SCHEMAS] + COMPILED
AGREED_IDS = [path.name for path in EXAMPLE_SCHEMAS] + [
    f"compiled{i}" for i in range(len(COMPILED))
]


@functools.cache
def _checks(index: int) -> tuple[Any, Any, st.SearchStrategy[Any]]:
    """python-jsonschema, the compiled check and the instances for ``AGREED[index]``."""
    reference = Draft202012Validator(AGREED[index])
    return reference, compile_check(AGREED[index], reference), instances(AGREED[index])


@pytest.mark.parametrize("index", range(len(AGREED)), ids=AGREED_IDS)
@AGREEMENT
@given(data=st.data())
def test_the_compiled_check_agrees_with_python_jsonschema(index: int, data: Any) -> None:
    reference, check, strategy = _checks(index)
    assert check is not None
    instance = data.draw(strategy)
    if _json_like(instance):
        assert check(instance) == reference.is_valid(instance)
    else:  # left to python-jsonschema
        assert not check(instance)
    try:
        decoded, plain = loads_plain(stdlib_json.dumps(instance, default=str, allow_nan=False))
    except (TypeError, ValueError, CodecError):  # not JSON text: nothing to decode
        return
    if plain:  # a decoded body skips the type walk and must still be judged alike
        assert check(decoded, True) == reference.is_valid(decoded)


def _json_like(value: Any) -> bool:
    """What the compiled check takes on: JSON values, integers no longer than 2**53."""
    if isinstance(value, dict):
        return all(_json_like(item) for item in value.values())
    if isinstance(value, list):
        return all(_json_like(item) for item in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return not isinstance(value, int) or isinstance(value, bool) or abs(value) <= 2**53


@pytest.mark.parametrize("schema", PYTHON_ONLY, ids=[str(s)[:40] for s in PYTHON_ONLY])
def test_schemas_whose_keywords_differ_are_left_to_python_jsonschema(schema: Any) -> None:
    assert compile_check(schema, Draft202012Validator(schema)) is None


def _step(schema: Any, max_errors: int = 20) -> JsonSchemaValidateStep:
    return JsonSchemaValidateStep(dumps(schema), "s", max_errors, "s.json")


def _outcome(step: JsonSchemaValidateStep, body: Any) -> list[tuple[str, str]]:
    try:
        asyncio.run(step.process(Message(body)))
    except ContractViolation as violation:
        return list(violation.errors)
    return []


def _reference(schema: Any, body: Any, max_errors: int = 20) -> list[tuple[str, str]]:
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=lambda e: list(e.path))
    pointers = ["/" + "/".join(str(part) for part in error.path) for error in errors]
    return [(where, e.message) for where, e in zip(pointers, errors, strict=True)][:max_errors]


BENCH = orjson.loads(BENCH_SCHEMA.read_bytes())
BENCH_STEP = JsonSchemaValidateStep(BENCH_SCHEMA.read_bytes(), "order", 3, "order.schema.json")


@settings(max_examples=200, deadline=None)
@given(body=instances(BENCH))
def test_the_step_lists_what_python_jsonschema_lists_for_the_bench_order(body: Any) -> None:
    assert _outcome(BENCH_STEP, body) == _reference(BENCH, body, max_errors=3)


DAY = datetime.date(2026, 11, 26)
MONEY = {
    "type": "object",
    "properties": {
        "qty": {"type": "integer", "maximum": 2**53},
        "price": {"type": "number", "maximum": 1.1},
        "lines": {"type": "array"},
        "code": {"type": "string", "pattern": "^[A-Z]+$"},
    },
}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"qty": Decimal(2)}, [("/qty", "Decimal('2') is not of type 'integer'")]),
        ({"price": Decimal("1.10000000000000000001")}, []),
        ({"price": math.nan}, []),
        ({"price": math.inf}, [("/price", "inf is greater than the maximum of 1.1")]),
        ({"lines": (1, 2)}, [("/lines", "(1, 2) is not of type 'array'")]),
        ({"lines": [DAY]}, []),
        (
            {"qty": datetime.date(2026, 11, 26)},
            [("/qty", "datetime.date(2026, 11, 26) is not of type 'integer'")],
        ),
        ({"qty": 2**53 + 1}, [("/qty", f"{2**53 + 1} is greater than the maximum of {2**53}")]),
        ({"qty": 2**53}, []),
        (OrderedDict(qty=1, code="AB"), []),
        ({1: "a", "code": "AB"}, []),
        ({"code": "AB\n"}, []),
        ({"code": "AB\ud800"}, [("/code", "'AB\\ud800' does not match '^[A-Z]+$'")]),
    ],
)
def test_bodies_of_other_types_are_judged_as_python_jsonschema_judges_them(
    body: Any, errors: list[tuple[str, str]]
) -> None:
    assert compile_check(MONEY, Draft202012Validator(MONEY)) is not None
    assert _outcome(_step(MONEY), body) == errors == _reference(MONEY, body)


def test_cyclic_and_very_deep_bodies_are_left_to_python_jsonschema() -> None:
    cycle: list[Any] = [1]
    cycle.append(cycle)
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    step = _step(MONEY)
    assert _outcome(step, {"lines": cycle}) == []
    assert _outcome(step, {"lines": deep}) == []
    assert _outcome(step, {"lines": deep, "qty": "x"}) == [("/qty", "'x' is not of type 'integer'")]


def test_exact_json_numbers_are_checked_exactly() -> None:
    step = _step(MONEY)
    big = loads(b'{"qty": 9007199254740993, "price": 1.1}')
    assert _outcome(step, big) == [
        ("/qty", "9007199254740993 is greater than the maximum of 9007199254740992")
    ]
    assert _outcome(step, loads(b'{"qty": 9007199254740992, "price": 1.1}')) == []
    huge = loads(b'{"qty": 123456789012345678901234567890}')
    assert _outcome(step, huge) == [
        ("/qty", f"{huge['qty']} is greater than the maximum of 9007199254740992")
    ]


def test_keywords_python_jsonschema_ignores_stay_ignored() -> None:
    """Under ``not``, a keyword only jsonschema-rs applies would turn a refusal into a pass."""
    ignored = {"dependencies": {"a": ["b"]}, "additionalItems": False}
    step = _step({"not": ignored})
    assert _outcome(step, {"a": 1}) == [("/", f"{{'a': 1}} should not be valid under {ignored}")]


def test_money_is_refused_as_python_jsonschema_refuses_it() -> None:
    schema = {"properties": {"price": {"multipleOf": 0.01}}}
    step = _step(schema)
    assert _outcome(step, {"price": 0.07}) == [("/price", "0.07 is not a multiple of 0.01")]
    assert _outcome(step, {"price": 0.5}) == []


def test_format_stays_an_annotation() -> None:
    step = _step({"properties": {"ts": {"type": "string", "format": "date-time"}}})
    assert _outcome(step, {"ts": "not a date"}) == []
    assert _outcome(step, {"ts": 5}) == [("/ts", "5 is not of type 'string'")]


def test_refs_within_the_file_are_followed() -> None:
    schema = COMPILED[1]
    step = _step(schema)
    assert compile_check(schema, Draft202012Validator(schema)) is not None
    assert _outcome(step, [{"sku": "A", "qty": 1}]) == []
    assert _outcome(step, [{"sku": "A", "qty": 0}, {"qty": 2}]) == [
        ("/0/qty", "0 is less than the minimum of 1"),
        ("/1", "'sku' is a required property"),
    ]


@pytest.mark.parametrize(
    ("pattern", "value", "valid"),
    [
        ("^[A-Z]{2}-[0-9]+$", "AB-12", True),
        ("^[A-Z]{2}-[0-9]+$", "AB-12\n", True),  # Python's $ also matches before a final LF
        ("^[A-Z]{2}-[0-9]+$", "ab-12", False),
        (r"^\d+$", "١٢٣", True),  # Python's \d takes every Unicode digit
        ("(?P<year>[0-9]{4})", "in 2026", True),  # Python's syntax, searched anywhere
        ("^[A-Z]+$", 42, True),  # not a string: pattern does not apply
    ],
)
def test_patterns_are_python_regular_expressions(pattern: str, value: Any, valid: bool) -> None:
    schema = {"properties": {"code": {"pattern": pattern}}}
    check = compile_check(schema, Draft202012Validator(schema))
    assert check is not None
    assert Draft202012Validator(schema).is_valid({"code": value}) is valid
    assert check({"code": value}) is valid
