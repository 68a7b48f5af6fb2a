"""A test file -> :class:`TestFile`, with every problem placed on its line (``ConfigError``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails

from splice.components import registry
from splice.config import FlowSpec, Project
from splice.config._locate import report
from splice.config._yaml import (
    START,
    Pos,
    Problems,
    item_pos,
    key_pos,
    plain,
    read_bytes,
    read_yaml,
    value_pos,
)
from splice.errors import ConfigError
from splice.flowtest._models import Case, TestFileModel

__all__ = ["TestFile", "load_test_file"]

_TAGS = frozenset({"count", "messages"})
"""Union tags pydantic puts in an error's location; they are not keys of the file."""


@dataclass(frozen=True)
class TestFile:
    """One validated test file: the flow it tests, its cases and where each is written."""

    __test__ = False
    path: Path
    flow: FlowSpec
    cases: list[Case]
    lines: list[int]


def load_test_file(path: Path, project: Project) -> TestFile:
    """Load and check one test file against ``project``; ConfigError lists every problem."""
    problems = Problems(str(path))
    data = read_bytes(path, problems)
    tree = None if data is None else read_yaml(data, problems)
    if problems.items:
        raise ConfigError(problems.items)
    if not isinstance(tree, dict):
        problems.add(START, "a test file is a mapping with 'flow' and 'cases'")
        raise ConfigError(problems.items)
    model = _validate(tree, problems)
    if model is None:
        raise ConfigError(sorted(problems.items, key=lambda p: (p.line, p.column)))
    flow = _check(model, tree, project, problems)
    if flow is None or problems.items:
        raise ConfigError(sorted(problems.items, key=lambda p: (p.line, p.column)))
    lines = [item_pos(tree["cases"], index, START)[0] for index in range(len(model.cases))]
    return TestFile(path, flow, list(model.cases), lines)


def _validate(tree: Any, problems: Problems) -> TestFileModel | None:
    try:
        return TestFileModel.model_validate(plain(tree))
    except ValidationError as error:
        report(_untagged(error, tree), tree, START, "", problems, TestFileModel)
        return None


def _untagged(error: ValidationError, tree: Any) -> ValidationError:
    """The same errors with union tags taken out of their locations."""
    details: list[InitErrorDetails] = []
    for detail in error.errors(include_url=False):
        cleaned = InitErrorDetails(
            type=detail["type"], loc=_clean_loc(detail["loc"], tree), input=detail["input"]
        )
        if "ctx" in detail:
            cleaned["ctx"] = detail["ctx"]
        details.append(cleaned)
    return ValidationError.from_exception_data(error.title, details)


def _clean_loc(loc: tuple[str | int, ...], node: Any) -> tuple[str | int, ...]:
    kept: list[str | int] = []
    for part in loc:
        if _has(node, part):
            node = node[part]
        elif part in _TAGS:
            continue
        else:
            node = None
        kept.append(part)
    return tuple(kept)


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _check(
    model: TestFileModel, tree: Any, project: Project, problems: Problems
) -> FlowSpec | None:
    """Checks the models cannot make alone: the flow, its sinks, the files named."""
    flow = project.flows.get(model.flow)
    if flow is None:
        hint = registry.suggest(model.flow, sorted(project.flows)) if project.flows else ""
        problems.add(value_pos(tree, "flow", START), f"flow: no flow '{model.flow}'{hint}")
        return None
    for index, case in enumerate(model.cases):
        node = tree["cases"][index]
        _check_case(case, node, item_pos(tree["cases"], index, START), flow, project, problems)
    return flow


def _check_case(
    case: Case, node: Any, pos: Pos, flow: FlowSpec, project: Project, problems: Problems
) -> None:
    expect = node.get("expect") or {}
    sinks_node = expect.get("sinks") or {}
    for name in case.expect.sinks:
        if name not in flow.sinks:
            at = key_pos(sinks_node, name, pos)
            problems.add(at, f"expect.sinks: {_no_sink(name, flow)}")
    for index, name in enumerate(case.expect.routed or []):
        if name not in flow.sinks:
            at = item_pos(expect.get("routed"), index, pos)
            problems.add(at, f"expect.routed: {_no_sink(name, flow)}")
    _check_files(case, node, pos, project, problems)


def _no_sink(name: str, flow: FlowSpec) -> str:
    return f"flow '{flow.name}' has no sink '{name}'{registry.suggest(name, sorted(flow.sinks))}"


def _check_files(case: Case, node: Any, pos: Pos, project: Project, problems: Problems) -> None:
    inputs = [node.get("input")] if case.input is not None else list(node.get("inputs") or [])
    for spec, raw in zip(case.all_inputs, inputs, strict=True):
        if spec.body_file is not None and not (project.dir / spec.body_file).is_file():
            at = value_pos(raw, "body_file", pos)
            problems.add(at, f"body_file: file not found: {spec.body_file}")
    expect = node.get("expect") or {}
    for name, checks in case.expect.sinks.items():
        raw_checks = (expect.get("sinks") or {}).get(name) or []
        for index, check in enumerate(checks if isinstance(checks, list) else []):
            if check.schema_ is not None and not (project.dir / check.schema_).is_file():
                at = value_pos(raw_checks[index], "schema", pos)
                problems.add(at, f"schema: file not found: {check.schema_}")
