"""The compiled mappings: what is compiled, and that it computes what the interpreter does.

The JSONata test suite (test_jsonata_suite.py) checks both against the expected results;
here the two are checked against each other on the features the compiler handles itself
and on those it leaves to the interpreter, errors (code and position) included.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from splice.errors import MappingError
from splice.mapping import UNDEFINED, Mapping, compile_mapping
from splice.mapping._mapping import interpreted_mapping

ROOT = Path(__file__).resolve().parents[2]
BENCH_EXPRESSION = ROOT / "bench" / "scenarios" / "mapping_expr.jsonata"

DATA: dict[str, Any] = {
    "a": {"b": {"c": 1}, "n": None, "list": [1, [2, 3], {"x": 4}]},
    "s": "text",
    "items": [
        {"sku": "A", "price": 0.1, "qty": 3, "tags": ["x", "y"], "kind": "bolt"},
        {"sku": "B", "price": 2.5, "qty": 1, "tags": [], "kind": "nut"},
        {"sku": "C", "price": 10, "qty": 2, "tags": ["z"], "kind": "bolt"},
    ],
    "obj": {"one": 1, "two": [2, 2], "three": {"x": 3}},
    "empty": [],
}

EXPRESSIONS = [
    # paths, sequences, singleton unwrapping, keepArray
    "a",
    "a.b.c",
    "a.n",
    "a.n.x",
    "a.list",
    "a.list.x",
    "a.list[]",
    "items.sku",
    "items.tags",
    "items.tags[]",
    "items[].sku",
    "items.sku[]",
    "items[0]",
    "items[-1].sku",
    "items[5]",
    "items[[0, 2]].sku",
    "items[price > 1].sku",
    "items[price > 100].sku",
    "items[kind = 'bolt'][1].sku",
    "items.tags[0]",
    "(items.tags)[0]",
    "items[0][0].sku",
    "items[tags].sku",
    "items['x' in tags].sku",
    "$.items[0].sku",
    "$$.items[1].sku",
    "items.$$.s",
    "items.($.qty * 2)",
    "missing",
    "missing.x",
    "s.x",
    "empty",
    "empty.x",
    "empty[0]",
    "obj.*",
    "**.x",
    "obj.two",
    "[items.sku]",
    "[items.sku][0]",
    # constructors
    "[1, 2, [3, 4], [], missing, [5]]",
    "[1..4]",
    "[1..4][-1]",
    "[[1, 2]]",
    "[[1, 2]][0]",
    "[items.tags]",
    '{"x": 1, "y": missing, "z": null}',
    '{"a": [null, {"b": null}, [null]], "c": a.n, "d": [a.n]}',
    '{"sku": items.sku}',
    'items.{"sku": sku, "line": qty * price}',
    "items{kind: $sum(price)}",
    "items{kind: sku}",
    "items{kind: sku[]}",
    "items.{kind: sku}",
    '{"a": 1, "a": 2}',
    '{"k" & "ey": 1}',
    "{1: 2}",
    "{missing: 1}",
    "empty{'x': 1}",
    # operators
    "0.1 + 0.2",
    "0.1 * 3",
    "items.(price - 0.05)",
    "9007199254740992 + 1",
    "9007199254740992 * 4",
    "1e308 * 10",
    "a.n + 1",
    "true + 1",
    "1 - false",
    "items.(price * qty)",
    "$sum(items.(price * qty))",
    "items[0].price - items[1].price",
    "10 / 4",
    "10 % 3",
    "-items[0].price",
    "-s",
    "s + 1",
    "1 + s",
    "missing + 1",
    "2 = 2.0",
    "a = a",
    "items[0] != items[1]",
    "1 < 2",
    "'a' < 'b'",
    "1 < 'a'",
    "missing < 1",
    "a < 1",
    "'x' & 1 & true & null & missing & items[0].tags",
    "true and missing",
    "items and s",
    "empty or 0",
    "'b' in ['a', 'b']",
    "s in missing",
    "[1..3]",
    "['a'..3]",
    "[1..s]",
    # control, variables, functions
    "qty > 1 ? 'many' : 'one'",
    "items.(qty > 1 ? 'many' : 'one')",
    "missing ? 1",
    "($x := 5; $y := $x * 2; [$x, $y])",
    "($x := items.sku; $x[1])",
    "($f := function($n) { $n < 2 ? $n : $f($n - 1) + $f($n - 2) }; $f(12))",
    "($even := function($n) { $n = 0 ? true : $odd($n - 1) };"
    " $odd := function($n) { $n = 0 ? false : $even($n - 1) }; $odd(301))",
    "$map(items, function($v, $i) { $v.price * $i })",
    "$filter(items, function($v) { $v.price > 1 }).sku",
    "$reduce([1..5], function($a, $b) { $a + $b })",
    "$sort(items, function($a, $b) { $a.price < $b.price }).sku",
    "$each(obj, function($v, $k) { $k })",
    "$string(items[0])",
    "$keys(obj)",
    "$count(items[kind = 'bolt'])",
    "$substring(s, 1, 2)",
    "$substring(1)",
    "$substring()",
    "s.$uppercase()",
    "items.sku.$lowercase()",
    "uppercase(s)",
    "$nothing(1)",
    "$lookup(obj, 'one')",
    "$lookup('no-such-table', 'x')",
    "$exists(missing)",
    "$eval('price * 2', items[0])",
    "($x := 3; $eval('$x + 1'))",
    "$now() = $now()",
    "function($x) { $x }",
    "$string(function($x) { $x })",
    "items.sku ~> $join(',')",
    "s ~> $uppercase",
    "($f := $uppercase ~> $substring(?, 0, 2); $f(s))",
    "s ~> 1",
    "$match(s, /e(x)/)",
    "$replace(s, /t/, 'T')",
    "/x/",
    "$contains(s, /X/i)",
    # left to the interpreter
    "items^(>price).sku",
    "items^(kind, price).sku",
    "items^(>kind)[0].sku",
    "items^(tags).sku",
    "items^(missing).sku",
    "items^($count(tags)).(sku & price)",
    "$sort(items.sku)^($)",
    "[3, 1, 2]^($)",
    "items.tags^($)",
    "items@$i.$i.sku",
    "items#$i.{'i': $i, 'sku': sku}",
    "items#$i[$i > 0].sku",
    "items.tags.%.sku",
    "$substring(?, 0, 2)(s)",
    '$ ~> |items|{"price": price * 2}, ["tags"]|',
    "items{kind: $count(sku)}^(kind)",
]


def _outcome(mapping: Mapping, data: Any) -> tuple[Any, ...]:
    try:
        result = mapping.evaluate(copy.deepcopy(data))
    except MappingError as error:
        return ("error", error.code, error.position)
    if result is UNDEFINED:
        return ("undefined",)
    return ("value", _plain(result))


def _plain(value: Any) -> Any:
    """Lambdas and regexes are compared by kind (each evaluation makes new ones)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return type(value).__name__


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_compiled_as_interpreted(expression: str) -> None:
    compiled = _outcome(compile_mapping(expression), DATA)
    assert compiled == _outcome(interpreted_mapping(expression), DATA)


@pytest.mark.parametrize(
    "data",
    [[1, 2, 3], [[1, 2]], [], [{"x": 1}, {"x": 2}], None, UNDEFINED, "s", 0],
    ids=repr,
)
@pytest.mark.parametrize(
    "expression", ["$", "$[0]", "$.x", "x", "$count($)", "$$[1]", "[$]", "{'a': $}", "$[]"]
)
def test_input_shapes(expression: str, data: Any) -> None:
    compiled = _outcome(compile_mapping(expression), data)
    assert compiled == _outcome(interpreted_mapping(expression), data)


@pytest.mark.parametrize("value", [Decimal("1.5"), {1, 2}, b"bytes", {"nested": [(1, 2)]}])
def test_only_json_input_is_accepted(value: Any) -> None:
    compiled = _outcome(compile_mapping("a"), {"a": value})
    assert compiled == ("error", "mapping", None)
    assert compiled == _outcome(interpreted_mapping("a"), {"a": value})


def test_bench_expression_is_fully_compiled() -> None:
    mapping = compile_mapping(BENCH_EXPRESSION.read_text())
    assert mapping.interpreted == ()


def _example_mappings() -> list[Any]:
    expressions = []
    for flow in sorted((ROOT / "examples").glob("*/flows/*.yaml")):
        for step in YAML(typ="safe").load(flow.read_text()).get("steps") or []:
            if isinstance(step, dict) and isinstance(step.get("map"), str):
                name = f"{flow.parent.parent.name}/{flow.stem}"
                expressions.append(pytest.param(step["map"], id=name))
    return expressions


@pytest.mark.parametrize("expression", _example_mappings())
def test_example_mappings_are_fully_compiled(expression: str) -> None:
    assert compile_mapping(expression).interpreted == ()


def test_quickstart_mappings_are_among_the_examples() -> None:
    names = [param.id for param in _example_mappings()]
    assert "quickstart/orders" in names
    assert "quickstart/audit" in names


def test_interpreted_parts_are_reported() -> None:
    mapping = compile_mapping("items#$i[$i > 0].sku")
    assert mapping.interpreted == ("path at 0",)
    assert mapping.evaluate(DATA) == ["B", "C"]
    partial = compile_mapping("$substring(?, 0, 2)(s)")
    assert [part.split(" at ")[0] for part in partial.interpreted] == ["partial"]


def test_sorting_is_compiled() -> None:
    mapping = compile_mapping("items^(>price, sku)[0].sku")
    assert mapping.interpreted == ()
    assert mapping.evaluate(DATA) == "C"


def test_compiled_and_interpreted_are_different_engines() -> None:
    """Guards the reference: interpreted_mapping must not run the compiled closures."""
    assert compile_mapping("a.b")._evaluator.compiled
    assert not interpreted_mapping("a.b")._evaluator.compiled


def test_runaway_step_times_out() -> None:
    mapping = compile_mapping("[1..5000].([1..5000].($ * 2))", timeout=0.2)
    with pytest.raises(MappingError) as caught:
        mapping.evaluate(None)
    assert caught.value.code == "D1012"


def test_mutual_recursion_is_stopped_by_depth() -> None:
    mapping = compile_mapping(
        "($a := function($n) { 1 + $b($n) }; $b := function($n) { 1 + $a($n) }; $a(0))",
        max_depth=50,
    )
    with pytest.raises(MappingError) as caught:
        mapping.evaluate(None)
    assert caught.value.code == "D1011"


def test_depth_is_reset_between_evaluations() -> None:
    mapping = compile_mapping(
        "($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(n))", max_depth=100
    )
    for _ in range(5):
        assert mapping.evaluate({"n": 40}) == 40


def test_error_inside_a_lambda_names_its_position() -> None:
    with pytest.raises(MappingError) as caught:
        compile_mapping('$map([1, 2], function($v) { $v + "x" })').evaluate(None)
    assert caught.value.code == "T2002"
    assert caught.value.position == 32
