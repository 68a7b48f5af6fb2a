"""Secret references in a loaded YAML tree: resolved in place, literal secrets refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from splice import secrets
from splice.config._yaml import Pos, Problems, item_pos, value_pos

__all__ = ["LITERAL_SECRET", "resolve_tree"]

LITERAL_SECRET = "secrets only by reference: use ${env:NAME} or ${file:PATH}"


def resolve_tree(node: Any, project_dir: Path, problems: Problems, pos: Pos) -> None:
    """Resolve every ``${env:..}`` / ``${file:..}`` in ``node``'s strings, in place."""
    if isinstance(node, dict):
        for key in list(node):
            where = value_pos(node, key, pos)
            resolved = _resolve_value(node[key], str(key), project_dir, problems, where)
            if resolved is not node[key]:
                node[key] = resolved
    elif isinstance(node, list):
        for index, item in enumerate(node):
            where = item_pos(node, index, pos)
            resolved = _resolve_value(item, "", project_dir, problems, where)
            if resolved is not item:
                node[index] = resolved


def _resolve_value(value: Any, key: str, project_dir: Path, problems: Problems, pos: Pos) -> Any:
    if isinstance(value, dict | list):
        resolve_tree(value, project_dir, problems, pos)
        return value
    literal = not isinstance(value, str) or not secrets.has_reference(value)
    if key and secrets.is_secret_key(key) and _is_scalar(value) and literal:
        problems.add(pos, f"{key}: {LITERAL_SECRET}")
        return value
    if not isinstance(value, str) or "${" not in value:
        return value
    try:
        return secrets.resolve(str(value), project_dir, key)
    except secrets.SecretError as exc:
        problems.add(pos, f"{key}: {exc}" if key else str(exc))
        return value


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""
