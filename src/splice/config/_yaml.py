"""YAML that remembers where everything was, and the list of problems found in a file.

Files are read with ruamel's round-trip loader, so every mapping key, value and sequence
item keeps its line and column. :class:`Problems` collects every problem of a file with its
1-based place; nothing stops at the first one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from splice.errors import ConfigProblem

__all__ = [
    "START",
    "Pos",
    "Problems",
    "item_pos",
    "key_pos",
    "plain",
    "read_bytes",
    "read_yaml",
    "value_pos",
]

Pos = tuple[int, int]
"""Line and column, both 1-based."""
START: Pos = (1, 1)
_DUPLICATE = re.compile(r'found duplicate key "(.*?)" with value')


@dataclass
class Problems:
    """Every problem found in one file."""

    file: str
    items: list[ConfigProblem] = field(default_factory=list)

    def add(self, pos: Pos, message: str) -> None:
        problem = ConfigProblem(self.file, pos[0], pos[1], message)
        if problem not in self.items:
            self.items.append(problem)


def key_pos(mapping: Any, key: Any, default: Pos) -> Pos:
    """Where ``key`` is written in ``mapping`` (``default`` when unknown)."""
    if isinstance(mapping, CommentedMap) and key in mapping:
        line, column = mapping.lc.key(key)
        return line + 1, column + 1
    return default


def value_pos(mapping: Any, key: Any, default: Pos) -> Pos:
    """Where the value of ``key`` is written in ``mapping``."""
    if isinstance(mapping, CommentedMap) and key in mapping:
        line, column = mapping.lc.value(key)
        return line + 1, column + 1
    return default


def item_pos(sequence: Any, index: int, default: Pos) -> Pos:
    """Where item ``index`` of ``sequence`` is written."""
    if isinstance(sequence, CommentedSeq) and 0 <= index < len(sequence):
        line, column = sequence.lc.item(index)
        return line + 1, column + 1
    return default


def read_yaml(data: bytes, problems: Problems) -> Any:
    """The document in ``data``, or None with a problem when it is not valid YAML."""
    try:
        return YAML(typ="rt").load(data)
    except MarkedYAMLError as exc:
        problems.add(_mark(exc), _describe(exc))
    except YAMLError as exc:
        problems.add(START, f"invalid YAML: {type(exc).__name__}")
    return None


def read_bytes(path: Path, problems: Problems) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        problems.add(START, f"cannot read file: {exc.strerror or type(exc).__name__}")
        return None


def _mark(exc: MarkedYAMLError) -> Pos:
    mark = exc.problem_mark or exc.context_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else START


def _describe(exc: MarkedYAMLError) -> str:
    problem = exc.problem or "invalid YAML"
    duplicate = _DUPLICATE.search(problem)
    if duplicate:  # never repeat the values: one of them may be a secret
        return f"duplicate key '{duplicate.group(1)}'"
    return f"YAML syntax error: {problem}"


def plain(node: Any) -> Any:
    """Plain Python data (dict, list, str, int, float, bool, None) from a round-trip node."""
    if isinstance(node, dict):
        return {plain(key): plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(item) for item in node]
    if isinstance(node, bool):
        return bool(node)
    for kind in (str, int, float):
        if isinstance(node, kind):
            return kind(node)
    return node
