"""The official JSONata test suite (the half in ../shared/corpora) through compile_mapping.

Every ``groups/*/case*.json`` runs; the cases listed in ``jsonata_divergences.yaml`` are
expected to fail (strictly: one that starts passing must be removed from the list).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from splice.errors import MappingError
from splice.mapping import UNDEFINED, compile_mapping

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
    limits: dict[str, Any] = {}
    if case.get("timelimit"):
        # The suite's time limits catch runaway expressions; a case that must succeed gets
        # room on a loaded machine (no timed assertions in tests), one that must stop doesn't.
        expects_error = "code" in case or "error" in case
        limits["timeout"] = case["timelimit"] / 1000 if expects_error else 120.0
    if case.get("depth"):
        limits["max_depth"] = case["depth"]
    return limits


def _run(case: dict[str, Any], expression: str) -> Any:
    mapping = compile_mapping(expression, **_limits(case))
    return mapping.evaluate(_input(case), bindings=case.get("bindings") or {})


pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason=f"corpus not found at {SUITE}")


@pytest.mark.parametrize("path", _cases())
def test_jsonata_suite_case(path: Path) -> None:
    case = _load(path)
    expected_error = (case.get("error") or case).get("code")
    expression = _expression(case, path)
    if expected_error is not None:
        with pytest.raises(MappingError) as caught:
            _run(case, expression)
        assert caught.value.code == expected_error
        return
    result = _run(case, expression)
    if case.get("undefinedResult"):
        assert result is UNDEFINED
    else:
        assert result is not UNDEFINED
        assert result == case["result"]


def test_every_divergence_names_a_case() -> None:
    names = {f"{p.parent.name}/{p.stem}" for p in SUITE.glob("groups/*/case*.json")}
    assert set(DIVERGENCES) <= names
