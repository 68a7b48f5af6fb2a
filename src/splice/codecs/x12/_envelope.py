"""The X12 envelope: ISA/IEA, GS/GE, ST/SE, their control numbers and counts.

:func:`iter_events` turns raw segments into envelope events, validating as it goes:

- ``("interchange", {"ISA": {...}, "separators": {...}})``
- ``("group", {"GS": {...}})``
- ``("transaction", {"ST": {...}, "segments": [...], "SE": {...}})``
- ``("group_end", {"GE": {...}})`` and ``("interchange_end", {"IEA": {...}})``

Every error names the segment by ordinal and id, and the element, e.g.
``segment 14 (SE): SE01 says 12 segments, counted 13``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from splice.codecs.x12._reader import RawSegment
from splice.codecs.x12._segments import segment_error, split_element

__all__ = ["Event", "envelope_fields", "iter_events", "same_number"]

Event = tuple[str, dict[str, Any]]
Structurer = Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]


def same_number(left: str, right: str) -> bool:
    """Control numbers match as text, or as numbers when both are digits."""
    left, right = left.strip(), right.strip()
    return left == right or (left.isdigit() and right.isdigit() and int(left) == int(right))


def envelope_fields(segment: RawSegment) -> dict[str, str]:
    """``{"GS01": ..., "GS02": ...}``; envelope elements are simple (no components)."""
    names: dict[str, str] = {}
    for index, value in enumerate(segment.fields, 1):
        name = f"{segment.id}{index:02d}"
        if segment.separators.component in value or any(ord(char) < 32 for char in value):
            detail = f"{name} {value!r} holds a separator or control character"
            raise segment_error(segment.ordinal, segment.id, detail)
        names[name] = value
    return names


@dataclass
class _Transaction:
    st: RawSegment
    body: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _State:
    structure: Structurer
    validate: bool = True
    isa: RawSegment | None = None
    gs: RawSegment | None = None
    transaction: _Transaction | None = None
    groups: int = 0
    transactions: int = 0
    last: RawSegment | None = None


def iter_events(
    segments: Iterable[RawSegment], structure: Structurer, *, validate: bool = True
) -> Iterator[Event]:
    """Envelope events; ``validate=False`` skips the count and control-number checks."""
    state = _State(structure, validate)
    for segment in segments:
        state.last = segment
        handler = _HANDLERS.get(segment.id, _body)
        event = handler(state, segment)
        if event is not None:
            yield event
    _check_closed(state)


def _isa(state: _State, segment: RawSegment) -> Event:
    if state.isa is not None:
        raise segment_error(segment.ordinal, "ISA", "ISA before IEA closed the interchange")
    fields = {f"ISA{i:02d}": v for i, v in enumerate(segment.fields, 1)}
    if len(fields) != 16 or any(ord(c) < 32 for v in fields.values() for c in v):
        raise segment_error(segment.ordinal, "ISA", "ISA needs 16 elements without line breaks")
    state.isa, state.groups = segment, 0
    return "interchange", {"ISA": fields, "separators": segment.separators.as_dict()}


def _gs(state: _State, segment: RawSegment) -> Event:
    if state.isa is None or state.gs is not None:
        raise segment_error(segment.ordinal, "GS", "GS outside an interchange or before GE")
    fields = envelope_fields(segment)
    state.gs, state.transactions = segment, 0
    state.groups += 1
    return "group", {"GS": fields}


def _st(state: _State, segment: RawSegment) -> None:
    if state.gs is None or state.transaction is not None:
        raise segment_error(segment.ordinal, "ST", "ST outside a functional group or before SE")
    envelope_fields(segment)
    state.transaction = _Transaction(segment)
    state.transactions += 1


def _body(state: _State, segment: RawSegment) -> None:
    if state.transaction is None:
        raise segment_error(segment.ordinal, segment.id, "segment outside a transaction set")
    seps = segment.separators
    elements = [split_element(f, seps.component, seps.repetition) for f in segment.fields]
    state.transaction.body.append({"id": segment.id, "elements": elements})


def _se(state: _State, segment: RawSegment) -> Event:
    transaction = state.transaction
    if transaction is None:
        raise segment_error(segment.ordinal, "SE", "SE without ST")
    st, se = envelope_fields(transaction.st), envelope_fields(segment)
    if state.validate:
        _check_count(segment, "SE01", se, len(transaction.body) + 2, "segments")
        _check_reference(segment, "SE02", se, "ST02", st)
    state.transaction = None
    body = state.structure(st.get("ST01", ""), transaction.body)
    return "transaction", {"ST": st, "segments": body, "SE": se}


def _ge(state: _State, segment: RawSegment) -> Event:
    if state.gs is None or state.transaction is not None:
        raise segment_error(segment.ordinal, "GE", "GE without GS, or before SE")
    ge = envelope_fields(segment)
    if state.validate:
        _check_count(segment, "GE01", ge, state.transactions, "transaction sets")
        _check_reference(segment, "GE02", ge, "GS06", envelope_fields(state.gs))
    state.gs = None
    return "group_end", {"GE": ge}


def _iea(state: _State, segment: RawSegment) -> Event:
    if state.isa is None or state.gs is not None:
        raise segment_error(segment.ordinal, "IEA", "IEA without ISA, or before GE")
    iea = envelope_fields(segment)
    if state.validate:
        _check_count(segment, "IEA01", iea, state.groups, "functional groups")
        isa = {f"ISA{i:02d}": v for i, v in enumerate(state.isa.fields, 1)}
        _check_reference(segment, "IEA02", iea, "ISA13", isa)
    state.isa = None
    return "interchange_end", {"IEA": iea}


def _check_count(
    segment: RawSegment, name: str, fields: dict[str, str], counted: int, what: str
) -> None:
    said = fields.get(name, "")
    if not said.strip().isdigit() or int(said) != counted:
        raise segment_error(
            segment.ordinal,
            segment.id,
            f"{name} says {said or 'nothing'} {what}, counted {counted}",
        )


def _check_reference(
    segment: RawSegment, name: str, fields: dict[str, str], other: str, others: dict[str, str]
) -> None:
    if not same_number(fields.get(name, ""), others.get(other, "")):
        detail = f"{name} {fields.get(name, '')!r} does not match {other} {others.get(other, '')!r}"
        raise segment_error(segment.ordinal, segment.id, detail)


def _check_closed(state: _State) -> None:
    if state.isa is None or state.last is None:
        return
    missing = "SE" if state.transaction else "GE" if state.gs else "IEA"
    last = state.last
    raise segment_error(
        last.ordinal, last.id, f"the stream ends before {missing}: the interchange is not closed"
    )


_HANDLERS: dict[str, Callable[[_State, RawSegment], Event | None]] = {
    "ISA": _isa,
    "GS": _gs,
    "ST": _st,
    "SE": _se,
    "GE": _ge,
    "IEA": _iea,
}
