"""XSD compatibility: a practical subset over the element structure.

Elements are collected from every global ``xs:element``, through inline or named complex
types (in the same document), ``sequence`` / ``all`` / ``choice`` and ``complexContent``
extensions, as paths like ``order.lines.line.qty``. Content models are closed (an element
not declared is invalid), so, from old to new:

========================================  ==============  ==========================
change                                    backward        forward
========================================  ==============  ==========================
element added, optional (minOccurs 0)     ok              breaks
element added, required                   breaks          breaks
element removed                           breaks          breaks if it was required
minOccurs raised / lowered                breaks / ok     ok / breaks
maxOccurs lowered / raised                breaks / ok     ok / breaks
type widened (int → long → integer →
decimal, any simple type → string)        ok              breaks
type changed otherwise                    breaks          breaks
========================================  ==============  ==========================

Attributes, facets (restrictions), substitution groups, ``xs:any`` and imports are not
compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree  # type: ignore[import-untyped]

from splice.schemas._changes import Change

__all__ = ["xsd_changes", "xsd_elements"]

XS = "{http://www.w3.org/2001/XMLSchema}"
_CHAIN = ["byte", "short", "int", "long", "integer", "decimal"]
_MAX_DEPTH = 32


@dataclass(frozen=True)
class _Element:
    type: str
    min_occurs: int
    max_occurs: float


def _local(qname: str | None) -> str:
    return (qname or "").rpartition(":")[2]


def xsd_elements(root: etree._Element) -> dict[str, _Element]:
    """Every element path of a schema document with its type and occurrence bounds."""
    types = {str(t.get("name")): t for t in root.findall(f"{XS}complexType")}
    found: dict[str, _Element] = {}
    for element in root.findall(f"{XS}element"):
        _walk_element(element, "", types, found, set(), 1)
    return found


def _occurs(element: etree._Element) -> tuple[int, float]:
    low = int(element.get("minOccurs", "1"))
    high_text = element.get("maxOccurs", "1")
    return low, float("inf") if high_text == "unbounded" else float(high_text)


def _walk_element(
    element: etree._Element,
    prefix: str,
    types: dict[str, etree._Element],
    found: dict[str, _Element],
    seen: set[str],
    depth: int,
) -> None:
    name = element.get("name") or _local(element.get("ref"))
    path = f"{prefix}{name}"
    type_name = _local(element.get("type"))
    low, high = _occurs(element)
    inline = element.find(f"{XS}complexType")
    found[path] = _Element(type_name or ("complex" if inline is not None else "anyType"), low, high)
    if depth > _MAX_DEPTH:
        return
    if inline is not None:
        _walk_type(inline, f"{path}.", types, found, seen, depth)
    elif type_name in types and type_name not in seen:
        _walk_type(types[type_name], f"{path}.", types, found, seen | {type_name}, depth)


def _walk_type(
    node: etree._Element,
    prefix: str,
    types: dict[str, etree._Element],
    found: dict[str, _Element],
    seen: set[str],
    depth: int,
) -> None:
    for child in node:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == f"{XS}element":
            _walk_element(child, prefix, types, found, seen, depth + 1)
        elif tag == f"{XS}extension":
            base = _local(child.get("base"))
            if base in types and base not in seen:
                _walk_type(types[base], prefix, types, found, seen | {base}, depth)
            _walk_type(child, prefix, types, found, seen, depth)
        elif tag in (f"{XS}sequence", f"{XS}all", f"{XS}choice", f"{XS}complexContent"):
            _walk_type(child, prefix, types, found, seen, depth)


def _widens(before: str, after: str) -> bool:
    if after == "string" and before not in ("complex", "anyType"):
        return True
    if before in _CHAIN and after in _CHAIN:
        return _CHAIN.index(after) > _CHAIN.index(before)
    return False


def xsd_changes(old: etree._Element, new: etree._Element) -> list[Change]:
    before, after = xsd_elements(old), xsd_elements(new)
    changes: list[Change] = []
    for path, element in after.items():
        if path not in before:
            required = element.min_occurs > 0
            text = f"element '{path}' added" + (" as required" if required else "")
            changes.append(Change(text, breaks_backward=required, breaks_forward=True))
    for path, element in before.items():
        if path not in after:
            changes.append(Change(f"element '{path}' removed", True, element.min_occurs > 0))
        else:
            changes += _compare(path, element, after[path])
    return changes


def _compare(path: str, old: _Element, new: _Element) -> list[Change]:
    changes: list[Change] = []
    if old.type != new.type:
        text = f"type of '{path}' changed from {old.type} to {new.type}"
        widened = _widens(old.type, new.type)
        changes.append(Change(text, breaks_backward=not widened, breaks_forward=True))
    if old.min_occurs != new.min_occurs:
        raised = new.min_occurs > old.min_occurs
        text = f"minOccurs of '{path}' changed from {old.min_occurs} to {new.min_occurs}"
        changes.append(Change(text, breaks_backward=raised, breaks_forward=not raised))
    if old.max_occurs != new.max_occurs:
        lowered = new.max_occurs < old.max_occurs
        text = f"maxOccurs of '{path}' changed from {_max(old)} to {_max(new)}"
        changes.append(Change(text, breaks_backward=lowered, breaks_forward=not lowered))
    return changes


def _max(element: _Element) -> str:
    return "unbounded" if element.max_occurs == float("inf") else str(int(element.max_occurs))
