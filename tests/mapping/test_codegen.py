"""The generated code (``_codegen``) computes what the closures it inlines compute.

``compile_mapping`` runs the generated function; ``closure_mapping`` the closures alone;
``interpreted_mapping`` jsonata-python's interpreter. Results (with the list classes),
error codes and positions must be the same, on the shapes the generated code handles
itself and on those it hands back to the closures.
"""

from __future__ import annotations

import copy
import decimal
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonata import JException, Utils

from splice.errors import MappingError
from splice.mapping import UNDEFINED, Mapping, compile_mapping
from splice.mapping._engine import (
    _EXACT,
    _dec,
    _nearest,
    exact_add,
    exact_operation,
    exact_sum,
    validate_input,
)
from splice.mapping._mapping import closure_mapping, interpreted_mapping

ROOT = Path(__file__).resolve().parents[2]
ORDER_TO_XML = """{
  "SalesOrder": {
    "@id": orderId,
    "Customer": customer.name,
    "Line": [items.{"@sku": sku, "Qty": qty, "Price": price, "Amount": qty * price}],
    "Total": $sum(items.(qty * price))
  }
}"""
BENCH_EXPRESSION = (ROOT / "bench" / "scenarios" / "mapping_expr.jsonata").read_text()

EXPRESSIONS = [
    ORDER_TO_XML,
    BENCH_EXPRESSION,
    "orderId",
    "customer.name",
    "customer.address.city",
    "a.b.c",
    "items",
    "items.sku",
    "items.tags",
    "items.sku[]",
    "items[].sku",
    "items.{'sku': sku}",
    "items.{'sku': sku}[]",
    "[items.{'sku': sku}]",
    "items.(qty * price)",
    "items.(price * qty)",
    "items.(price * price)",
    "items.(qty * qty)",
    "items.(qty + price)",
    "items.(price - qty)",
    "items.(qty - 1)",
    "$sum(items.(qty * price))",
    "$sum(items.price)",
    "$sum(items.qty)",
    "$count(items)",
    "$string(items.qty)",
    "items.(qty > 1 ? 'many' : 'one')",
    "items.(qty >= price)",
    "items.(sku < 'B')",
    "items.[sku, qty]",
    "items.[[sku], tags]",
    "items.tags.x",
    "items.(tags)",
    "items.($x := qty; $x * 2)",
    "($x := 2; items.(qty * $x))",
    "(items.(qty * price))",
    "items.((qty; price))",
    "items.()",
    "{'a': null, 'b': items.missing, 'c': a.n, 'd': [a.n]}",
    "{'n': a.n, 'l': [null]}",
    "{'x': $append([null], 1)}",
    "{'k': items.sku[], 'v': [items.qty]}",
    "{'sku': sku, 'qty': qty}",
    "items{kind: qty}",
    "items^(price).sku",
    "items[qty > 1].{'s': sku}",
    "items.{'n': $count($$.items)}",
    "qty * price",
    "a ? items.sku : 'none'",
    "items.(price ? sku)",
    "customer.name & ' ' & orderId",
    "items.(sku & qty & price & tags & missing & a)",
    "{'s': items.(sku & '-' & $string(qty))}",
]

ITEMS = [
    {"sku": "A", "qty": 3, "price": 0.1, "tags": ["x"], "kind": "bolt"},
    {"sku": "B", "qty": 200, "price": 3.49, "tags": [], "kind": "nut"},
    {"sku": "C", "qty": 2, "price": 10, "tags": ["y", "z"], "kind": "bolt"},
]

SHAPES: dict[str, Any] = {
    "order": {
        "orderId": "O-1",
        "customer": {"name": "Acme", "address": {"city": "Stuttgart"}},
        "items": ITEMS,
        "a": {"b": {"c": 1}, "n": None},
    },
    "one item": {"items": ITEMS[:1], "a": {"b": {"c": [1, 2]}}},
    "no items": {"items": [], "orderId": None},
    "items an object": {"items": ITEMS[0]},
    "items a string": {"items": "x", "customer": "Acme"},
    "items of lists": {"items": [ITEMS, [ITEMS[1]], []]},
    "items mixed": {"items": [ITEMS[0], None, "s", 5, [ITEMS[1]], {"qty": None}]},
    "items null": {"items": None, "customer": {"name": None}},
    "nulls inside": {"items": [{"sku": None, "qty": None, "price": None, "tags": [None]}]},
    "wrong types": {"items": [{"sku": 1, "qty": "3", "price": True, "tags": "t"}]},
    "big numbers": {"items": [{"qty": 2**60, "price": 1e300}, {"qty": 2**53, "price": 2**53}]},
    "exponent floats": {"items": [{"qty": 3, "price": 1e-7}, {"qty": 1.5e17, "price": 0.5}]},
    "many items": {"items": [dict(ITEMS[0], qty=n) for n in range(1500)]},
    "top-level array": [ITEMS[0], {"items": ITEMS}],
    "a string": "text",
    "a number": 5,
    "null": None,
    "undefined": UNDEFINED,
}


def _shape(value: Any) -> Any:
    """The value with the classes of its containers (list vs JSONata sequence)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return (type(value).__name__, [_shape(v) for v in value])
    if value is None or isinstance(value, (str, int, float, bool)):
        return (type(value).__name__, value)
    return type(value).__name__


def _copy(data: Any) -> Any:
    """A fresh copy of the data (``UNDEFINED`` stays the singleton)."""
    return data if data is UNDEFINED else copy.deepcopy(data)


def _outcome(mapping: Mapping, data: Any) -> tuple[Any, ...]:
    try:
        result = mapping.evaluate(_copy(data))
    except MappingError as error:
        return ("error", error.code, error.position)
    if result is UNDEFINED:
        return ("undefined",)
    return ("value", _shape(result))


def _same_everywhere(expression: str, data: Any, **limits: Any) -> tuple[Any, ...]:
    generated = _outcome(compile_mapping(expression, **limits), data)
    assert generated == _outcome(closure_mapping(expression, **limits), data)
    return generated


@pytest.mark.parametrize("shape", list(SHAPES), ids=str)
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_generated_as_closures(expression: str, shape: str) -> None:
    _same_everywhere(expression, SHAPES[shape])


@pytest.mark.parametrize("shape", ["order", "nulls inside", "items mixed", "big numbers"])
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_generated_as_interpreted(expression: str, shape: str) -> None:
    data = SHAPES[shape]
    expected = _outcome(interpreted_mapping(expression), data)
    assert _outcome(compile_mapping(expression), data) == expected


@pytest.mark.parametrize("expression", [ORDER_TO_XML, BENCH_EXPRESSION])
def test_bench_expressions_are_generated(expression: str) -> None:
    evaluator = compile_mapping(expression)._evaluator
    assert evaluator.generated is not None
    assert closure_mapping(expression)._evaluator.generated is None


def test_interpreted_parts_are_called_from_the_generated_code() -> None:
    mapping = compile_mapping("{'s': items^(>price).sku, 'n': items#$i.$i}")
    assert mapping._evaluator.generated is not None
    assert mapping.interpreted  # the tuple stream
    assert mapping.evaluate(SHAPES["order"]) == {"s": ["C", "B", "A"], "n": [0, 1, 2]}


def test_deep_nesting_stays_correct() -> None:
    """Beyond the nesting CPython compiles, nodes call their closures."""
    arithmetic = "(" * 40 + "qty" + " * price)" * 40
    objects = "{'a': " * 30 + "items.(qty * price)" + "}" * 30
    for expression in (arithmetic, objects, f"items.{{'x': {objects}}}"):
        assert compile_mapping(expression)._evaluator.generated is not None
        for shape in ("order", "items mixed", "big numbers"):
            _same_everywhere(expression, SHAPES[shape])


def test_null_results_are_converted() -> None:
    data = {"a": {"n": None, "list": [None, 1]}, "items": [{"x": None}, {"x": 1}]}
    mapping = compile_mapping("{'n': a.n, 'l': a.list, 'x': items.x, 'z': null, 'y': [null]}")
    assert mapping.evaluate(data) == {
        "n": None,
        "l": [None, 1],
        "x": [None, 1],
        "z": None,
        "y": [None],
    }
    assert compile_mapping("a.n").evaluate(data) is None
    assert compile_mapping("$").evaluate(None) is None
    assert compile_mapping("[$, 1]").evaluate(None) == [None, 1]
    assert compile_mapping("{'x': $append([null], 1)}").evaluate({}) == {"x": [None, 1]}


def test_validate_input_reports_nulls() -> None:
    null = Utils.NULL_VALUE
    assert not validate_input({"a": [1, {"b": None}], "c": "x"})
    assert validate_input(null)
    assert validate_input({"a": [1, {"b": null}]})
    assert validate_input([{"a": [null]}])
    with pytest.raises(ValueError, match="Only JSON types"):
        validate_input([{"a": (1, 2)}])


def test_a_runaway_inside_a_generated_loop_is_stopped() -> None:
    mapping = compile_mapping("items.{'n': $sum($$.items.(qty * price))}", timeout=0.01)
    assert mapping._evaluator.generated is not None
    data = {"items": [dict(ITEMS[1], qty=n) for n in range(1000)]}
    with pytest.raises(MappingError) as caught:
        mapping.evaluate(data)
    assert caught.value.code == "D1012"


def test_long_arrays_go_to_the_closures_that_check_the_clock() -> None:
    mapping = compile_mapping("items.(qty * price)", timeout=0.01)
    data = {"items": [{"qty": n, "price": 0.5} for n in range(300_000)]}
    with pytest.raises(MappingError) as caught:
        mapping.evaluate(data)
    assert caught.value.code == "D1012"


@pytest.mark.parametrize("max_depth", [0, 1])
def test_calls_count_depth(max_depth: int) -> None:
    expression = "{'t': $sum(items.(qty * price)), 's': $string($count(items))}"
    outcome = _same_everywhere(expression, SHAPES["order"], max_depth=max_depth)
    if max_depth == 0:
        assert outcome[:2] == ("error", "D1011")
    else:
        assert outcome[0] == "value"


def test_errors_keep_their_positions() -> None:
    data = {"items": [{"qty": 2, "price": "x"}]}
    assert _same_everywhere("items.{'a': qty * price}", data) == ("error", "T2002", 17)
    assert _same_everywhere("{'t': $sum(items.sku)}", {"items": [{"sku": "a"}]})[:2] == (
        "error",
        "T0412",
    )
    assert _same_everywhere("items.(qty < sku)", {"items": [{"qty": 1, "sku": "a"}]})[:2] == (
        "error",
        "T2009",
    )


# -- property tests ---------------------------------------------------------------------

_KEYS = st.sampled_from(["a", "b", "c", "n", "items", "sku", "qty", "price", "tags", "x"])
_NUMBERS = st.one_of(
    st.integers(-1000, 1000),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(-10000, 10000, places=4, allow_nan=False, allow_infinity=False).map(float),
    st.sampled_from([0.1, 0.2, 0.3, 3.49, -0.0, 1e-7, 1e16, 1.5e300, 2.0**53]),
)
_SCALARS = st.one_of(st.none(), st.booleans(), _NUMBERS, st.text(max_size=3))
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=25,
)
_ITEM = st.dictionaries(_KEYS, _JSON, max_size=6)
_DATA = st.one_of(
    st.fixed_dictionaries(
        {"items": st.lists(st.one_of(_ITEM, _JSON), max_size=6)},
        optional={"a": _JSON, "customer": _JSON, "orderId": _JSON, "b": _JSON},
    ),
    _JSON,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=st.sampled_from(EXPRESSIONS), data=_DATA)
def test_generated_as_closures_on_any_data(expression: str, data: Any) -> None:
    _same_everywhere(expression, data)


def _reference_sum(values: list[Any]) -> int | float:
    """``exact_sum`` as it was: Decimal throughout."""
    if all(isinstance(v, int) for v in values):
        return _nearest(sum(int(v) for v in values))
    total = decimal.Decimal(0)
    for value in values:
        total = _EXACT.add(total, _dec(value))
    return _nearest(total)


def _result(function: Any, *args: Any) -> tuple[Any, ...]:
    try:
        value = function(*args)
    except JException as error:
        return ("error", error.error)
    return ("value", type(value), value)


_OPERANDS = st.one_of(
    _NUMBERS,
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.integers(-(2**60), 2**60),
)


@settings(max_examples=3000, deadline=None)
@given(left=_OPERANDS, right=_OPERANDS, op=st.sampled_from(["+", "-", "*"]))
def test_exact_operation_is_the_decimal_computation(left: Any, right: Any, op: str) -> None:
    assert _result(exact_operation(op), left, right) == _result(exact_add, left, right, op)


@settings(max_examples=2000, deadline=None)
@given(values=st.lists(st.one_of(_OPERANDS, st.booleans(), st.just(10**60)), max_size=8))
def test_exact_sum_is_the_decimal_sum(values: list[Any]) -> None:
    assert _result(exact_sum, values) == _result(_reference_sum, values)


def test_exact_arithmetic_examples() -> None:
    multiply, add = exact_operation("*"), exact_operation("+")
    assert multiply(3, 0.1) == 0.3
    assert multiply(24, 3.49) == 83.76
    assert multiply(200, 0.12) == 24
    assert type(multiply(200, 0.12)) is int
    assert add(0.1, 0.2) == 0.3
    assert exact_sum([24, 10, 8, 30, 83.76]) == 155.76
    assert exact_sum([0.1] * 10) == 1
    assert math.isclose(multiply(1e-7, 3), 3e-7)


@pytest.mark.parametrize(
    "expression",
    [
        "{'a': $a, 'h': $headers.x, 'n': $n, 'l': $l, 'm': $missing}",
        "items.{'sku': sku, 'f': $f}",
        "$$.items[0].sku",
        "$uppercase($a)",
        "[$l, $n]",
    ],
)
def test_variables_and_bindings(expression: str) -> None:
    bindings = {"a": "x", "n": None, "l": [None, 1], "f": 1.5}
    headers = {"x": "y"}
    outcomes = []
    for factory in (compile_mapping, closure_mapping, interpreted_mapping):
        try:
            result = factory(expression).evaluate(
                _copy(SHAPES["order"]), headers=headers, bindings=bindings
            )
            outcomes.append(("value", _shape(result)))
        except MappingError as error:
            outcomes.append(("error", error.code, error.position))
    assert outcomes[0] == outcomes[1] == outcomes[2]


def _plain_outcome(mapping: Mapping, data: Any, plain: bool) -> tuple[Any, ...]:
    try:
        result = mapping.evaluate(_copy(data), plain=plain)
    except MappingError as error:
        return ("error", error.code, error.position)
    return ("undefined",) if result is UNDEFINED else ("value", _shape(result))


@pytest.mark.parametrize("shape", list(SHAPES), ids=str)
@pytest.mark.parametrize(
    "expression", [ORDER_TO_XML, BENCH_EXPRESSION, "$", "[$, null]", "{'n': a.n, 'x': $.items}"]
)
def test_plain_input_gives_the_same_outcome(expression: str, shape: str) -> None:
    """``plain=True`` skips the input check only: JSON data gives the same outcome."""
    for factory in (compile_mapping, closure_mapping, interpreted_mapping):
        mapping = factory(expression)
        data = SHAPES[shape]
        assert _plain_outcome(mapping, data, True) == _plain_outcome(mapping, data, False)


def test_plain_input_is_not_checked() -> None:
    mapping = compile_mapping("a")
    with pytest.raises(MappingError):
        mapping.evaluate({"a": (1, 2)})
    assert mapping.evaluate({"a": (1, 2)}, plain=True) == (1, 2)
