"""Loops (X12) and segment groups (EDIFACT) from transaction-set definition files.

A definition is data: ``{"id": "850", "name": ..., "segments": [...]}`` where each entry
is a segment id or a nested loop ``{"loop": "N1", "segments": ["N1", "N2", ...]}`` (the key
is ``group`` for EDIFACT). A loop's first segment is its trigger: it opens a new instance.
Segments unknown to the definition stay in the innermost open loop; transaction sets
without a definition stay flat. Nesting never reorders segments, so flattening gives back
the exact segment sequence.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["LoopDefinition", "flatten", "load_definition", "nest"]

Item = dict[str, Any]


@dataclass
class LoopDefinition:
    name: str
    trigger: str
    plain: set[str] = field(default_factory=set)
    children: dict[str, LoopDefinition] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    """Every segment id used anywhere at or below this loop."""


def _build(name: str, entries: list[Any], key: str) -> LoopDefinition:
    loop = LoopDefinition(name, "")
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            if index == 0:
                loop.trigger = entry
            else:
                loop.plain.add(entry)
            loop.known.add(entry)
        else:
            child = _build(entry[key], entry["segments"], key)
            loop.children[child.trigger] = child
            loop.known |= child.known
    return loop


@cache
def load_definition(package: str, message: str, key: str) -> LoopDefinition | None:
    """The definition ``<package>/definitions/<message>.json``, or None when absent."""
    path = resources.files(package) / "definitions" / f"{message}.json"
    if not message.isalnum() or not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    root = _build(data["id"], data["segments"], key)
    root.plain.add(root.trigger)
    root.trigger = ""
    return root


def nest(definition: LoopDefinition | None, segments: list[Item], key: str) -> list[Item]:
    """Group a flat segment list into loops following ``definition``."""
    if definition is None:
        return segments
    root: list[Item] = []
    stack: list[tuple[LoopDefinition, list[Item]]] = [(definition, root)]
    for segment in segments:
        _place(segment, stack, key, definition.known)
    return root


def _place(
    segment: Item, stack: list[tuple[LoopDefinition, list[Item]]], key: str, known: set[str]
) -> None:
    sid = segment["id"]
    if sid not in known:
        stack[-1][1].append(segment)
        return
    while True:
        loop, items = stack[-1]
        if sid in loop.plain:
            items.append(segment)
            return
        child = loop.children.get(sid)
        if child is not None:
            node: Item = {key: child.name, "segments": [segment]}
            items.append(node)
            stack.append((child, node["segments"]))
            return
        if len(stack) == 1:
            items.append(segment)
            return
        stack.pop()


def flatten(items: list[Item]) -> Iterator[Item]:
    """Segments in document order, loops dissolved."""
    for item in items:
        if "id" in item:
            yield item
        else:
            yield from flatten(item["segments"])
