"""Pydantic validation errors, placed on the YAML node they are about.

A pydantic error has a ``loc`` such as ``("retry", "attempts")``; :func:`report` walks the
same keys through the round-trip YAML tree to find the line and column of that value (of the
key, for an unknown key) and words the message as ``path: what is wrong``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from splice.components.registry import suggest
from splice.config._yaml import Pos, Problems, item_pos, key_pos, value_pos

__all__ = ["field_names", "join_path", "report"]

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_INTERNAL = frozenset({"str", "int", "float", "bool", "none", "dict", "list", "literal"})
_PREFIXES = ("Value error, ", "Assertion failed, ")


def join_path(prefix: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{prefix}[{part}]"
    return f"{prefix}.{part}" if prefix else part


def field_names(model: type[BaseModel] | None) -> list[str]:
    """The keys a user may write for ``model`` (aliases where declared)."""
    if model is None:
        return []
    return sorted(info.alias or name for name, info in model.model_fields.items())


def report(
    error: ValidationError,
    node: Any,
    base: Pos,
    prefix: str,
    problems: Problems,
    model: type[BaseModel] | None = None,
) -> None:
    """Add one problem per pydantic error of ``error``, placed in ``node`` (found at ``base``)."""
    for detail in error.errors(include_url=False):
        pos, path, rest = _walk(node, base, prefix, detail)
        problems.add(pos, _message(detail, path, rest, _submodel(model, detail["loc"])))


def _walk(node: Any, pos: Pos, path: str, detail: ErrorDetails) -> tuple[Pos, str, list[str | int]]:
    """The place and path of the deepest node of ``loc`` found; the unfound rest of it."""
    loc = list(detail["loc"])
    at_key = detail["type"] == "extra_forbidden"
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, dict) and part in node:
            pos = key_pos(node, part, pos) if last and at_key else value_pos(node, part, pos)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            pos, node = item_pos(node, part, pos), node[part]
        else:
            return pos, path, [p for p in loc[index:] if _is_user_part(p)]
        path = join_path(path, part)
    return pos, path, []


def _is_user_part(part: str | int) -> bool:
    return isinstance(part, int) or (part not in _INTERNAL and bool(_FIELD.match(part)))


def _submodel(model: type[BaseModel] | None, loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model that holds the last key of ``loc`` (for did-you-mean on unknown keys)."""
    for part in loc[:-1]:
        if model is None or not isinstance(part, str):
            return None
        fields = {info.alias or name: info for name, info in model.model_fields.items()}
        annotation = fields[part].annotation if part in fields else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            model = None
    return model


def _message(
    detail: ErrorDetails, path: str, rest: list[str | int], model: type[BaseModel] | None
) -> str:
    kind = detail["type"]
    if kind == "missing" and rest:
        return _at(path, f"missing required key '{rest[-1]}'")
    if kind == "extra_forbidden":
        key = str(detail["loc"][-1])
        parent = path.rpartition(".")[0] if path.endswith(key) else path
        return _at(parent, f"unknown key '{key}'{_did_you_mean(key, field_names(model))}")
    for part in rest:
        path = join_path(path, part)
    text = detail["msg"]
    for known in _PREFIXES:
        text = text.removeprefix(known)
    return _at(path, text)


def _did_you_mean(key: str, candidates: list[str]) -> str:
    return suggest(key, candidates) if candidates else ""


def _at(path: str, text: str) -> str:
    return f"{path}: {text}" if path else text
