"""compile_mapping / Mapping.evaluate: money, undefined, bindings, errors, limits, cache."""

from __future__ import annotations

import re

import pytest
from jsonata import Jsonata

import splice.mapping
from splice.errors import MappingError
from splice.mapping import UNDEFINED, compile_mapping

ORDER = {"items": [{"qty": 2, "price": 5.5}, {"qty": 1, "price": 10}]}


def test_public_surface() -> None:
    assert sorted(splice.mapping.__all__) == [
        "DEFAULT_MAX_DEPTH",
        "DEFAULT_TIMEOUT",
        "LookupTables",
        "Mapping",
        "UNDEFINED",
        "compile_mapping",
    ]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0.1 + 0.2", 0.3),
        ("$sum([0.1, 0.2])", 0.3),
        ("19.99 * 3", 59.97),
        ("1.1 - 0.2", 0.9),
        ("$average([0.1, 0.2, 0.3])", 0.2),
        ("$round(2.675, 2)", 2.68),
        ("1 / 4", 0.25),
    ],
)
def test_money_arithmetic_is_exact(expression: str, expected: float) -> None:
    assert compile_mapping(expression).evaluate(None) == expected


def test_sum_of_line_totals_is_exact_and_whole() -> None:
    result = compile_mapping("$sum(items.(qty * price))").evaluate(ORDER)
    assert result == 21
    assert isinstance(result, int)


def test_integers_stay_integers() -> None:
    assert compile_mapping("2 * 3 + 1").evaluate(None) == 7
    assert isinstance(compile_mapping("2 * 3").evaluate(None), int)
    assert isinstance(compile_mapping("$sum([1, 2])").evaluate(None), int)


def test_money_is_exact_on_plain_floats_from_json() -> None:
    assert compile_mapping("a + b").evaluate({"a": 0.1, "b": 0.2}) == 0.3


def test_plain_jsonata_python_is_not_exact() -> None:
    """Guards the reason for the override: if this fails, the override may be removed."""
    assert Jsonata("0.1 + 0.2").evaluate(None) != 0.3


def test_overflow_is_a_mapping_error() -> None:
    with pytest.raises(MappingError) as caught:
        compile_mapping("1e300 * 1e300").evaluate(None)
    assert caught.value.code == "D1001"


def test_undefined_is_distinct_from_null() -> None:
    mapping = compile_mapping("a")
    assert mapping.evaluate({}) is UNDEFINED
    assert mapping.evaluate({"a": None}) is None
    assert compile_mapping("$").evaluate(None) is None
    assert compile_mapping("[a, null]").evaluate({}) == [None]


def test_undefined_input() -> None:
    assert compile_mapping("$exists($)").evaluate(UNDEFINED) is False


def test_headers_binding() -> None:
    mapping = compile_mapping("$headers.`order-id`")
    assert mapping.evaluate({}, headers={"order-id": "42"}) == "42"


def test_user_bindings() -> None:
    assert compile_mapping("price * $rate").evaluate({"price": 10}, bindings={"rate": 1.1}) == 11


def test_now_gives_an_iso_timestamp() -> None:
    now = compile_mapping("$now()").evaluate(None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", now)
    assert isinstance(compile_mapping("$millis()").evaluate(None), int)


def test_now_is_stable_within_one_evaluation() -> None:
    assert compile_mapping("$now() = $now()").evaluate(None) is True


def test_eval_uses_exact_money() -> None:
    assert compile_mapping('$eval("0.1 + 0.2")').evaluate(None) == 0.3


def test_parse_error_has_code_position_and_expression() -> None:
    with pytest.raises(MappingError) as caught:
        compile_mapping('{"a": }')
    error = caught.value
    assert error.code.startswith("S0")
    assert error.position is not None
    assert error.expression == '{"a": }'
    assert str(error).startswith(f"{error.code} at position {error.position}: ")


def test_type_error_message_names_code_and_position() -> None:
    with pytest.raises(MappingError) as caught:
        compile_mapping("a + 1").evaluate({"a": "x"})
    assert caught.value.code == "T2001"
    assert caught.value.position == 3
    assert str(caught.value) == (
        "T2001 at position 3: The left side of the + operator must evaluate to a number"
    )


def test_library_failure_is_translated() -> None:
    with pytest.raises(MappingError) as caught:
        compile_mapping('$toMillis("foo")').evaluate(None)
    assert isinstance(caught.value.__cause__, Exception)


def test_runaway_loop_times_out() -> None:
    mapping = compile_mapping("($f := function($x) { $f($x + 1) }; $f(0))", timeout=0.2)
    with pytest.raises(MappingError) as caught:
        mapping.evaluate(None)
    assert caught.value.code == "D1012"


def test_deep_recursion_is_stopped() -> None:
    mapping = compile_mapping("($f := function($x) { 1 + $f($x + 1) }; $f(0))", max_depth=100)
    with pytest.raises(MappingError) as caught:
        mapping.evaluate(None)
    assert caught.value.code == "D1011"


def test_timeout_clock_starts_at_each_evaluation() -> None:
    mapping = compile_mapping("$sum([1..1000])", timeout=0.05)
    for _ in range(5):
        assert mapping.evaluate(None) == 500500


def test_compiled_once_and_cached() -> None:
    assert compile_mapping("a.b") is compile_mapping("a.b")
    assert compile_mapping("a.b") is not compile_mapping("a.b", timeout=2)


def test_mappings_do_not_disturb_each_other() -> None:
    first = compile_mapping("x + 0.1")
    compile_mapping("$now()")
    assert first.evaluate({"x": 0.2}) == 0.3
