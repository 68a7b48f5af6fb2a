"""The official JSONata test suite (the half in ../shared/corpora) through compile_mapping.

Every ``groups/*/case*.json`` runs three times: through the compiled mappings splice uses
(generated code over closures), through the closures alone (the generated code's
fallback) and through jsonata-python's interpreter alone (the compiler's reference). The
cases listed in ``jsonata_divergences.yaml`` are expected to fail (strictly: one that
starts passing must be removed from the list), and the compiler must pass every case the
interpreter passes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from splice.errors import MappingError
from splice.mapping import UNDEFINED, Mapping, compile_mapping
from splice.mapping._mapping import closure_mapping, interpreted_mapping

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT.parent / "shared" / "corpora" / "jsonata" / "test-suite"
DIVERGENCES: dict[str, str] = YAML(typ="safe").load(
    (Path(__file__).parent / "jsonata_divergences.yaml").read_text()
)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8-sig"))


def _cases() -> list[Any]:
    params = []
    for path in sorted(SUITE.glob("groups/*/case*.json")):
        name = f"{path.parent.name}/{path.stem}"
        marks = []
        if name in DIVERGENCES:
            marks.append(pytest.mark.xfail(strict=True, reason=DIVERGENCES[name]))
        params.append(pytest.param(path, id=name, marks=marks))
    return params


def _input(case: dict[str, Any]) -> Any:
    if "data" in case:
        return case["data"]
    if case.get("dataset"):
        return _load(SUITE / "datasets" / f"{case['dataset']}.json")
    return UNDEFINED


def _expression(case: dict[str, Any], path: Path) -> str:
    if "expr" in case:
        return str(case["expr"])
    return (path.parent / case["expr-file"]).read_text(encoding="utf-8")


def _limits(case: dict[str, Any]) -> dict[str, Any]:
    # The suite's time limits catch runaway expressions; a case that must succeed gets room
    # on a loaded machine (no timed assertions in tests: the interpreter takes seconds on
    # some), one that must stop doesn't.
    expects_error = "code" in case or "error" in case
    limits: dict[str, Any] = {} if expects_error else {"timeout": 120.0}
    if case.get("timelimit") and expects_error:
        limits["timeout"] = case["timelimit"] / 1000
    if case.get("depth"):
        limits["max_depth"] = case["depth"]
    return limits


Factory = Callable[..., Mapping]


def _run(case: dict[str, Any], expression: str, factory: Factory) -> Any:
    mapping = factory(expression, **_limits(case))
    return mapping.evaluate(_input(case), bindings=case.get("bindings") or {})


def _check(path: Path, factory: Factory) -> None:
    case = _load(path)
    expected_error = (case.get("error") or case).get("code")
    expression = _expression(case, path)
    if expected_error is not None:
        with pytest.raises(MappingError) as caught:
            _run(case, expression, factory)
        assert caught.value.code == expected_error
        return
    result = _run(case, expression, factory)
    if case.get("undefinedResult"):
        assert result is UNDEFINED
    else:
        assert result is not UNDEFINED
        assert result == case["result"]


_OUTCOMES: dict[tuple[Factory, Path], bool] = {}
"""Pass/fail of each case and engine, recorded by the parametrized tests below."""


def _recorded(path: Path, factory: Factory) -> None:
    _OUTCOMES[factory, path] = False
    _check(path, factory)
    _OUTCOMES[factory, path] = True


def _passes(path: Path, factory: Factory) -> bool:
    if (factory, path) not in _OUTCOMES:
        with contextlib.suppress(AssertionError, pytest.fail.Exception, MappingError):
            _recorded(path, factory)
    return _OUTCOMES[factory, path]


pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason=f"corpus not found at {SUITE}")


@pytest.mark.parametrize("path", _cases())
def test_jsonata_suite_case(path: Path) -> None:
    _recorded(path, compile_mapping)


@pytest.mark.parametrize("path", _cases())
def test_jsonata_suite_case_closures(path: Path) -> None:
    _recorded(path, closure_mapping)


@pytest.mark.parametrize("path", _cases())
def test_jsonata_suite_case_interpreted(path: Path) -> None:
    _recorded(path, interpreted_mapping)


def test_compiler_passes_every_case_the_interpreter_passes() -> None:
    """Runs after the three above (file order) and reuses their outcomes; alone, runs all."""
    paths = sorted(SUITE.glob("groups/*/case*.json"))
    interpreter = {p for p in paths if _passes(p, interpreted_mapping)}
    assert len(interpreter) > 700
    for factory in (compile_mapping, closure_mapping):
        compiler = {p for p in paths if _passes(p, factory)}
        missing = sorted(f"{p.parent.name}/{p.stem}" for p in interpreter - compiler)
        assert not missing, f"{factory.__name__} fails cases the interpreter passes: {missing}"


def test_every_divergence_names_a_case() -> None:
    names = {f"{p.parent.name}/{p.stem}" for p in SUITE.glob("groups/*/case*.json")}
    assert set(DIVERGENCES) <= names
