"""Every test file of a project, loaded, then run case by case."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from splice import secrets
from splice.config import Project, load_project
from splice.errors import ConfigError, ConfigProblem
from splice.flowtest._expect import Mismatch, check
from splice.flowtest._harness import FlowHarness, input_message
from splice.flowtest._load import TestFile, load_test_file
from splice.store import Store

__all__ = ["CaseResult", "FileResult", "load_suite", "run_files", "test_files"]

MEMORY_STORE = "sqlite:///:memory:"


@dataclass(frozen=True)
class CaseResult:
    name: str
    line: int
    mismatches: list[Mismatch]

    @property
    def passed(self) -> bool:
        return not self.mismatches


@dataclass
class FileResult:
    """The cases of one test file; ``shown`` is its path relative to the project."""

    shown: str
    flow: str
    cases: list[CaseResult] = field(default_factory=list)


def test_files(project_dir: Path) -> list[Path]:
    folder = project_dir / "tests"
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


test_files.__test__ = False  # type: ignore[attr-defined]


def load_suite(project_dir: Path) -> tuple[Project, list[TestFile]]:
    """The project and its test files; one ConfigError with every problem of them all."""
    with secrets.deferred() as unresolved:
        project = load_project(project_dir)
    files: list[TestFile] = []
    problems: list[ConfigProblem] = _unresolved_in_steps(project, unresolved)
    for path in test_files(project_dir):
        try:
            files.append(load_test_file(path, project))
        except ConfigError as error:
            problems += error.problems
    if problems:
        raise ConfigError(problems)
    return project, files


def _unresolved_in_steps(project: Project, unresolved: list[str]) -> list[ConfigProblem]:
    """A step that would run with an unset reference: the test cannot build it.

    Sources and sinks are replaced in a flow test, so their references may stay unset;
    the steps are built as the engine builds them, so theirs must resolve.
    """
    problems: list[ConfigProblem] = []
    if not unresolved:
        return problems
    for flow in project.flows.values():
        for ref in flow.steps:
            text = repr(ref.config.model_dump())
            missing = sorted({reference for reference in unresolved if reference in text})
            if missing:
                problems.append(
                    ConfigProblem(
                        str(ref.file),
                        ref.line,
                        ref.column,
                        f"{ref.path}: {', '.join(missing)} is not set; a flow test builds "
                        "its steps, so set it (only sources and sinks are replaced)",
                    )
                )
    return problems


async def run_files(project: Project, files: list[TestFile]) -> list[FileResult]:
    """Run every case; each file gets its own in-memory store and freshly built steps."""
    results = []
    for test_file in files:
        results.append(await _run_file(project, test_file))
    return results


async def _run_file(project: Project, test_file: TestFile) -> FileResult:
    shown = _shown(test_file.path, project.dir)
    result = FileResult(shown, test_file.flow.name)
    store = await Store.open(MEMORY_STORE, project_dir=project.dir)
    try:
        harness = FlowHarness(project, test_file.flow, store)
        await harness.open()
        try:
            for case, line in zip(test_file.cases, test_file.lines, strict=True):
                messages = [input_message(spec, project.dir) for spec in case.all_inputs]
                outcome = await harness.run(messages)
                mismatches = check(case.expect, outcome, project.dir)
                result.cases.append(CaseResult(case.name, line, mismatches))
        finally:
            await harness.close()
    finally:
        await store.close()
    return result


def _shown(path: Path, project_dir: Path) -> str:
    try:
        return str(path.resolve().relative_to(project_dir.resolve()))
    except ValueError:
        return str(path)
