"""One flow file -> :class:`FlowSpec`, with every problem placed on its line and column."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from splice import secrets
from splice.components import registry
from splice.components.spec import Kind
from splice.config import _locate
from splice.config._interpolate import resolve_tree
from splice.config._models import (
    FLOW_KEYS,
    ON_ERROR_KEYS,
    ComponentRef,
    ErrorPolicy,
    FlowHeader,
    FlowSpec,
)
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
from splice.runtime.policies import OnError
from splice.settings import ProjectSettings

__all__ = ["load_flow", "read_flow"]

_SHAPES: dict[Kind, str] = {
    "source": "a source is a mapping of one key, the source type, e.g. 'http: {path: /orders}'",
    "step": "a step is a mapping of one key, the step name, e.g. '- decode: json'",
    "sink": "a sink is a mapping of one key, the sink type, e.g. 'channel: {name: orders}'",
}


@dataclass
class _FlowFile:
    """What every check of one flow file needs to know."""

    path: Path
    tree: Any
    problems: Problems
    context: dict[str, Any]


def load_flow(path: Path, *, project_dir: Path, settings: ProjectSettings) -> FlowSpec:
    """Load and validate one flow file; ConfigError lists every problem in it."""
    problems = Problems(str(path))
    spec = read_flow(path, project_dir, settings, problems)
    if problems.items or spec is None:
        raise ConfigError(problems.items)
    return spec


def read_flow(
    path: Path, project_dir: Path, settings: ProjectSettings, problems: Problems
) -> FlowSpec | None:
    """The flow in ``path``, or None; every problem found is added to ``problems``."""
    data = read_bytes(path, problems)
    tree = None if data is None else read_yaml(data, problems)
    if data is None or problems.items:
        return None
    if not isinstance(tree, dict):
        what = "empty file" if tree is None else "a flow file is a mapping"
        problems.add(START, f"{what}: a flow needs at least 'source' and 'sinks'")
        return None
    resolve_tree(tree, project_dir, problems, START)
    sink_names = [str(name) for name in tree.get("sinks") or {}] if _is_map(tree, "sinks") else []
    flow = _FlowFile(path, tree, problems, {"project_dir": project_dir, "sink_names": sink_names})
    spec = _assemble(flow, data, settings)
    problems.items.sort(key=lambda problem: (problem.line, problem.column))
    return spec


def _assemble(flow: _FlowFile, data: bytes, settings: ProjectSettings) -> FlowSpec | None:
    _check_keys(flow)
    header = _header(flow)
    source = _source(flow)
    steps = _steps(flow)
    sinks = _sinks(flow)
    on_error = _on_error(flow, flow.tree, "on_error")
    if header is None or source is None or flow.problems.items:
        return None
    return FlowSpec(
        name=header.integration or flow.path.stem,
        file=flow.path,
        version=hashlib.sha256(data).hexdigest()[:12],
        description=header.description,
        owner=header.owner,
        steward=header.steward,
        source=source,
        steps=tuple(steps),
        sinks=sinks,
        max_in_flight=header.max_in_flight or settings.runtime.max_in_flight,
        on_error=on_error or ErrorPolicy(),
    )


def _is_map(tree: Any, key: str) -> bool:
    return isinstance(tree.get(key), dict)


def _check_keys(flow: _FlowFile) -> None:
    for key in flow.tree:
        if key not in FLOW_KEYS:
            hint = registry.suggest(str(key), list(FLOW_KEYS))
            flow.problems.add(key_pos(flow.tree, key, START), f"unknown key '{key}'{hint}")
    if "source" not in flow.tree:
        flow.problems.add(START, "missing required key 'source'")


def _header(flow: _FlowFile) -> FlowHeader | None:
    raw = {key: plain(flow.tree[key]) for key in FlowHeader.model_fields if key in flow.tree}
    try:
        return FlowHeader.model_validate(raw)
    except ValidationError as error:
        _locate.report(error, flow.tree, START, "", flow.problems, FlowHeader)
        return None


def _source(flow: _FlowFile) -> ComponentRef | None:
    if "source" not in flow.tree:
        return None
    pos = value_pos(flow.tree, "source", START)
    return _component(flow, "source", flow.tree["source"], pos, "source")


def _steps(flow: _FlowFile) -> list[ComponentRef]:
    raw = flow.tree.get("steps")
    if raw is None:
        return []
    if not isinstance(raw, list):
        pos = value_pos(flow.tree, "steps", START)
        flow.problems.add(pos, "steps: expected a list of steps, e.g. '- decode: json'")
        return []
    found = []
    for index, entry in enumerate(raw):
        pos = item_pos(raw, index, START)
        ref = _component(flow, "step", entry, pos, f"steps[{index}]")
        found.append(ref)
    return [ref for ref in found if ref is not None]


def _sinks(flow: _FlowFile) -> dict[str, ComponentRef]:
    raw = flow.tree.get("sinks")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        pos = value_pos(flow.tree, "sinks", START)
        flow.problems.add(pos, "sinks: expected a mapping of sink name to sink")
        return {}
    sinks = {}
    for name, entry in raw.items():
        pos = value_pos(raw, name, START)
        ref = _component(flow, "sink", entry, pos, f"sinks.{name}", extra=("on_error",))
        if ref is not None:
            policy = _on_error(flow, entry, f"sinks.{name}.on_error")
            sinks[str(name)] = ref if policy is None else _with_policy(ref, policy)
    return sinks


def _with_policy(ref: ComponentRef, policy: ErrorPolicy) -> ComponentRef:
    return ComponentRef(**{**ref.__dict__, "on_error": policy})


def _component(
    flow: _FlowFile, kind: Kind, entry: Any, pos: Pos, path: str, extra: tuple[str, ...] = ()
) -> ComponentRef | None:
    """Validate ``{name: config}`` (plus the ``extra`` keys) as one component of ``kind``."""
    keys = [key for key in entry if key not in extra] if isinstance(entry, dict) else []
    if len(keys) != 1:
        flow.problems.add(pos, f"{path}: {_SHAPES[kind]}")
        return None
    name = str(keys[0])
    where = key_pos(entry, keys[0], pos)
    config = _parse(flow, kind, name, entry, where, f"{path}.{name}")
    if config is None:
        return None
    return ComponentRef(kind, name, config, f"{path}.{name}", flow.path, *where)


def _parse(
    flow: _FlowFile, kind: Kind, name: str, entry: Any, where: Pos, path: str
) -> BaseModel | None:
    try:
        spec = registry.get(kind, name)
    except registry.UnknownComponent as exc:
        flow.problems.add(where, str(exc))
        return None
    except ImportError as exc:
        flow.problems.add(where, f"{kind} '{name}' cannot be loaded: {exc}")
        return None
    raw = entry[name]
    try:
        return spec.parse(plain(raw), context=flow.context)
    except ValidationError as error:
        if kind != "step" and _only_unresolved(error):
            # ``splice test`` replaces sources and sinks: a value that is an unset
            # reference cannot be checked, and the component is never built.
            return spec.config.model_construct(**plain(raw))
        base = value_pos(entry, name, where)
        _locate.report(error, raw, base, path, flow.problems, spec.config)
        return None


def _only_unresolved(error: ValidationError) -> bool:
    """Every error is about a value still holding a reference (see ``secrets.deferred``)."""
    return secrets.deferring() and all(
        isinstance(item.get("input"), str) and secrets.has_reference(item["input"])
        for item in error.errors()
    )


def _on_error(flow: _FlowFile, parent: Any, path: str) -> ErrorPolicy | None:
    if not isinstance(parent, dict) or "on_error" not in parent or parent["on_error"] is None:
        return None
    raw, pos = parent["on_error"], value_pos(parent, "on_error", START)
    if not isinstance(raw, dict):
        flow.problems.add(pos, f"{path}: expected a mapping, e.g. 'dead_letter: true'")
        return None
    for key in raw:
        if key not in ON_ERROR_KEYS:
            hint = registry.suggest(str(key), list(ON_ERROR_KEYS))
            flow.problems.add(key_pos(raw, key, pos), f"{path}: unknown key '{key}'{hint}")
    known = {key: value for key, value in plain(raw).items() if key in ON_ERROR_KEYS}
    try:
        policy = OnError.model_validate(known)
    except ValidationError as error:
        _locate.report(error, raw, pos, path, flow.problems, OnError)
        return None
    return ErrorPolicy(dead_letter=policy.dead_letter, raw=plain(raw), policy=policy)
