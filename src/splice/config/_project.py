"""A project folder -> :class:`Project`: ``splice.yaml``, ``systems/*.yaml``, ``flows/*.yaml``.

Every file is read and checked even when an earlier one is wrong, so one ConfigError lists
every problem of the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from splice.config import _locate
from splice.config._flow import read_flow
from splice.config._interpolate import resolve_tree
from splice.config._models import FlowSpec, Project, SystemSpec
from splice.config._yaml import START, Problems, plain, read_bytes, read_yaml, value_pos
from splice.errors import ConfigError, ConfigProblem
from splice.settings import ProjectSettings

__all__ = ["load_project", "load_settings"]

SETTINGS_FILE = "splice.yaml"
M = TypeVar("M", bound=BaseModel)


def load_settings(directory: Path) -> ProjectSettings:
    """``splice.yaml`` of the project (defaults when there is none); ConfigError if wrong."""
    problems = Problems(str(directory / SETTINGS_FILE))
    settings = _read_settings(directory, problems)
    if problems.items:
        raise ConfigError(problems.items)
    return settings


def load_project(directory: Path) -> Project:
    """Load and validate a whole project; ConfigError lists every problem in every file."""
    if not directory.is_dir():
        raise ConfigError.at(str(directory), 1, 1, "project folder not found")
    found: list[ConfigProblem] = []
    settings_problems = Problems(str(directory / SETTINGS_FILE))
    settings = _read_settings(directory, settings_problems)
    found += settings_problems.items
    systems = _read_systems(directory, found)
    flows = _read_flows(directory, settings, found)
    if found:
        raise ConfigError(found)
    return Project(directory, settings, flows, systems)


def _read_settings(directory: Path, problems: Problems) -> ProjectSettings:
    path = directory / SETTINGS_FILE
    if not path.exists():
        return ProjectSettings()
    tree = _read_tree(path, directory, problems)
    if tree is None:
        return ProjectSettings()
    if not isinstance(tree, dict):
        problems.add(START, "splice.yaml is a mapping of settings, e.g. 'project: my-project'")
        return ProjectSettings()
    return _validate(ProjectSettings, tree, problems) or ProjectSettings()


def _read_tree(path: Path, directory: Path, problems: Problems) -> Any:
    data = read_bytes(path, problems)
    tree = None if data is None else read_yaml(data, problems)
    if tree is not None:
        resolve_tree(tree, directory, problems, START)
    return tree


def _validate(model: type[M], tree: Any, problems: Problems) -> M | None:
    try:
        return model.model_validate(plain(tree))
    except ValidationError as error:
        _locate.report(error, tree, START, "", problems, model)
        return None


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def _read_systems(directory: Path, found: list[ConfigProblem]) -> dict[str, SystemSpec]:
    systems: dict[str, SystemSpec] = {}
    first_file: dict[str, str] = {}
    for path in _files(directory / "systems"):
        problems = Problems(str(path))
        system = _read_system(path, directory, problems)
        if system is not None and system.name in systems:
            pos = value_pos(_tree_of(path), "name", START)
            other = first_file[system.name]
            problems.add(pos, f"duplicate system name '{system.name}' (also in {other})")
        elif system is not None:
            systems[system.name], first_file[system.name] = system, str(path)
        found += problems.items
    return systems


def _read_system(path: Path, directory: Path, problems: Problems) -> SystemSpec | None:
    tree = _read_tree(path, directory, problems)
    if problems.items:
        return None
    if not isinstance(tree, dict):
        what = "empty file" if tree is None else "a system file is a mapping"
        problems.add(START, f"{what}: a system has a name, owner, description and connection")
        return None
    if "name" not in tree:
        tree["name"] = path.stem
    return _validate(SystemSpec, tree, problems)


def _tree_of(path: Path) -> Any:
    return read_yaml(path.read_bytes(), Problems(str(path)))


def _read_flows(
    directory: Path, settings: ProjectSettings, found: list[ConfigProblem]
) -> dict[str, FlowSpec]:
    flows: dict[str, FlowSpec] = {}
    for path in _files(directory / "flows"):
        problems = Problems(str(path))
        flow = read_flow(path, directory, settings, problems)
        if flow is not None and flow.name in flows:
            pos = value_pos(_tree_of(path), "integration", START)
            other = flows[flow.name].file
            problems.add(pos, f"duplicate flow name '{flow.name}' (also in {other})")
        elif flow is not None:
            flows[flow.name] = flow
        found += problems.items
    return flows
