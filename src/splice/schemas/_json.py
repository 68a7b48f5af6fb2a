"""JSON Schema compatibility: a practical rule set over the object structure.

Walked recursively through ``properties``, ``items`` and local ``$ref`` (``#/...``), with
paths such as ``customer.address.city`` or ``items[].qty``. From old to new:

=============================================  ===========  ==========
change                                         backward     forward
=============================================  ===========  ==========
optional property added                        ok           breaks if the old one is closed
required property added                        breaks       breaks if the old one is closed
property removed                               breaks if    breaks if it was required
                                               new closed
property became required                       breaks       ok
property became optional                       ok           breaks
type widened (``integer`` → ``number``,
another type added to a list of types)         ok           breaks
type narrowed                                  breaks       ok
type changed otherwise                         breaks       breaks
enum values added / removed                    ok / breaks  breaks / ok
``additionalProperties`` closed / opened       breaks / ok  ok / breaks
=============================================  ===========  ==========

"Closed" means ``additionalProperties: false``. Unlike Confluent's strictest reading, a
property added to an open object is not treated as a possible type clash with undeclared
data. Keywords outside this table (formats, patterns, bounds, combinators) are not compared.
"""

from __future__ import annotations

from typing import Any

from splice.schemas._changes import Change

__all__ = ["json_changes"]

_NUMERIC_WIDER = {"integer": {"number"}}


def json_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    _compare(_Walker(old), old, _Walker(new), new, "", changes)
    return changes


class _Walker:
    """Resolves local ``$ref`` pointers of one document."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def resolve(self, node: Any, depth: int = 0) -> dict[str, Any]:
        if not isinstance(node, dict):
            return {}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#") and depth < 32:
            target: Any = self.root
            for part in ref[1:].strip("/").split("/"):
                if not part:
                    continue
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part, {}) if isinstance(target, dict) else {}
            return self.resolve(target, depth + 1)
        return node


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("type")
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {str(v) for v in value}
    if "properties" in node:
        return {"object"}
    return set()


def _label(path: str) -> str:
    return path or "(root)"


def _compare(
    ow: _Walker, old_node: Any, nw: _Walker, new_node: Any, path: str, out: list[Change]
) -> None:
    old, new = ow.resolve(old_node), nw.resolve(new_node)
    _compare_types(old, new, path, out)
    _compare_enum(old, new, path, out)
    old_props: dict[str, Any] = old.get("properties") or {}
    new_props: dict[str, Any] = new.get("properties") or {}
    if old_props or new_props:
        _compare_objects(ow, old, nw, new, path, out)
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        _compare(ow, old["items"], nw, new["items"], f"{path}[]", out)


def _compare_types(old: dict[str, Any], new: dict[str, Any], path: str, out: list[Change]) -> None:
    before, after = _types(old), _types(new)
    if not before or not after or before == after:
        return
    shown_before, shown_after = "|".join(sorted(before)), "|".join(sorted(after))
    text = f"type of '{_label(path)}' changed from {shown_before} to {shown_after}"
    widened = all(t in after or _NUMERIC_WIDER.get(t, set()) & after for t in before)
    narrowed = all(t in before or _NUMERIC_WIDER.get(t, set()) & before for t in after)
    if widened:
        out.append(Change(text, breaks_forward=True))
    elif narrowed:
        out.append(Change(text, breaks_backward=True))
    else:
        out.append(Change(text, breaks_backward=True, breaks_forward=True))


def _compare_enum(old: dict[str, Any], new: dict[str, Any], path: str, out: list[Change]) -> None:
    before, after = old.get("enum"), new.get("enum")
    if not isinstance(before, list) or not isinstance(after, list):
        if isinstance(before, list) != isinstance(after, list):
            added = isinstance(after, list)
            text = f"enum of '{_label(path)}' {'added' if added else 'removed'}"
            out.append(Change(text, breaks_backward=added, breaks_forward=not added))
        return
    removed = [v for v in before if v not in after]
    added_values = [v for v in after if v not in before]
    if removed:
        text = f"enum of '{_label(path)}' lost {', '.join(map(repr, removed))}"
        out.append(Change(text, breaks_backward=True))
    if added_values:
        text = f"enum of '{_label(path)}' gained {', '.join(map(repr, added_values))}"
        out.append(Change(text, breaks_forward=True))


def _closed(node: dict[str, Any]) -> bool:
    return node.get("additionalProperties") is False


def _compare_objects(
    ow: _Walker, old: dict[str, Any], nw: _Walker, new: dict[str, Any], path: str, out: list[Change]
) -> None:
    old_props: dict[str, Any] = old.get("properties") or {}
    new_props: dict[str, Any] = new.get("properties") or {}
    old_req, new_req = set(old.get("required") or []), set(new.get("required") or [])
    prefix = f"{path}." if path else ""
    for name in new_props:
        if name not in old_props:
            required = name in new_req
            text = f"field '{prefix}{name}' added" + (" as required" if required else "")
            out.append(Change(text, breaks_backward=required, breaks_forward=_closed(old)))
    for name in old_props:
        if name not in new_props:
            text = f"field '{prefix}{name}' removed"
            out.append(Change(text, breaks_backward=_closed(new), breaks_forward=name in old_req))
    for name in old_props:
        if name in new_props:
            if name in new_req and name not in old_req:
                out.append(Change(f"field '{prefix}{name}' became required", True, False))
            elif name in old_req and name not in new_req:
                out.append(Change(f"field '{prefix}{name}' became optional", False, True))
            _compare(ow, old_props[name], nw, new_props[name], f"{prefix}{name}", out)
    if _closed(old) != _closed(new):
        closed = _closed(new)
        text = f"'{_label(path)}' {'closed to' if closed else 'opened to'} additional properties"
        out.append(Change(text, breaks_backward=closed, breaks_forward=not closed))
