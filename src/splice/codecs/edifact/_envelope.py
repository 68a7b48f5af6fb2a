"""The EDIFACT envelope: UNB/UNZ, UNG/UNE, UNH/UNT, their references and counts.

:func:`iter_events` turns raw segments into events, validating as it goes:
``("interchange", {"separators", "UNB"})``, ``("group", {"UNG"})``,
``("message", {"UNH", "segments", "UNT"})``, ``("group_end", {"UNE"})`` and
``("interchange_end", {"UNZ"})``. Errors name the segment and element, e.g.
``segment 9 (UNT): UNT01 says 8 segments, counted 7``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from splice.codecs.edifact._reader import RawSegment, split_escaped, unescape
from splice.codecs.x12._envelope import same_number
from splice.codecs.x12._segments import segment_error

__all__ = ["Event", "elements_of", "envelope_fields", "iter_events"]

Event = tuple[str, dict[str, Any]]
Structurer = Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]


def elements_of(segment: RawSegment) -> list[str | list[str]]:
    """Unescaped elements; a composite (with a component separator) is a list."""
    seps = segment.separators
    result: list[str | list[str]] = []
    for text in segment.fields:
        parts = [
            unescape(p, seps.release) for p in split_escaped(text, seps.component, seps.release)
        ]
        result.append(parts[0] if len(parts) == 1 else parts)
    return result


def envelope_fields(segment: RawSegment) -> dict[str, Any]:
    """``{"UNB01": ["UNOC", "3"], "UNB02": "SENDER", ...}``."""
    return {f"{segment.id}{i:02d}": v for i, v in enumerate(elements_of(segment), 1)}


def _first(value: Any) -> str:
    return str(value[0] if isinstance(value, list) else value or "")


@dataclass
class _State:
    structure: Structurer
    validate: bool = True
    unb: dict[str, Any] | None = None
    ung: dict[str, Any] | None = None
    unh: RawSegment | None = None
    body: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"UNB": 0, "UNG": 0})
    last: RawSegment | None = None


def iter_events(
    segments: Iterable[RawSegment], structure: Structurer, *, validate: bool = True
) -> Iterator[Event]:
    """Envelope events; ``validate=False`` skips count, reference and closing checks."""
    state = _State(structure, validate)
    for segment in segments:
        state.last = segment
        event = _HANDLERS.get(segment.id, _body)(state, segment)
        if event is not None:
            yield event
    if state.validate and state.unb is not None and state.last is not None:
        missing = "UNT" if state.unh else "UNE" if state.ung else "UNZ"
        detail = f"the stream ends before {missing}: the interchange is not closed"
        raise segment_error(state.last.ordinal, state.last.id, detail)


def _unb(state: _State, segment: RawSegment) -> Event:
    if state.unb is not None:
        raise segment_error(segment.ordinal, "UNB", "UNB before UNZ closed the interchange")
    state.unb = envelope_fields(segment)
    state.counts = {"UNB": 0, "UNG": 0}
    return "interchange", {"separators": segment.separators.as_dict(), "UNB": state.unb}


def _ung(state: _State, segment: RawSegment) -> Event:
    if state.unb is None or state.ung is not None or state.unh is not None:
        raise segment_error(segment.ordinal, "UNG", "UNG outside an interchange or before UNE")
    state.ung = envelope_fields(segment)
    state.counts["UNB"] += 1
    state.counts["UNG"] = 0
    return "group", {"UNG": state.ung}


def _unh(state: _State, segment: RawSegment) -> None:
    if state.unb is None or state.unh is not None:
        raise segment_error(segment.ordinal, "UNH", "UNH outside an interchange or before UNT")
    state.unh, state.body = segment, []
    state.counts["UNG" if state.ung is not None else "UNB"] += 1


def _body(state: _State, segment: RawSegment) -> None:
    if state.unh is None:
        raise segment_error(segment.ordinal, segment.id, "segment outside a message (UNH..UNT)")
    state.body.append({"id": segment.id, "elements": elements_of(segment)})


def _unt(state: _State, segment: RawSegment) -> Event:
    if state.unh is None:
        raise segment_error(segment.ordinal, "UNT", "UNT without UNH")
    unh, unt = envelope_fields(state.unh), envelope_fields(segment)
    if state.validate:
        _check_count(segment, "UNT01", unt, len(state.body) + 2, "segments")
        _check_reference(segment, "UNT02", unt, "UNH01", unh)
    message_type = _first(unh.get("UNH02"))
    body, state.unh = state.structure(message_type, state.body), None
    return "message", {"UNH": unh, "segments": body, "UNT": unt}


def _une(state: _State, segment: RawSegment) -> Event:
    if state.ung is None or state.unh is not None:
        raise segment_error(segment.ordinal, "UNE", "UNE without UNG, or before UNT")
    une = envelope_fields(segment)
    if state.validate:
        _check_count(segment, "UNE01", une, state.counts["UNG"], "messages")
        _check_reference(segment, "UNE02", une, "UNG05", state.ung)
    state.ung = None
    return "group_end", {"UNE": une}


def _unz(state: _State, segment: RawSegment) -> Event:
    if state.unb is None or state.ung is not None or state.unh is not None:
        raise segment_error(segment.ordinal, "UNZ", "UNZ without UNB, or before UNT/UNE")
    unz = envelope_fields(segment)
    if state.validate:
        _check_count(segment, "UNZ01", unz, state.counts["UNB"], "messages or groups")
        _check_reference(segment, "UNZ02", unz, "UNB05", state.unb)
    state.unb = None
    return "interchange_end", {"UNZ": unz}


def _check_count(
    segment: RawSegment, name: str, fields: dict[str, Any], counted: int, what: str
) -> None:
    said = _first(fields.get(name))
    if not said.strip().isdigit() or int(said) != counted:
        detail = f"{name} says {said or 'nothing'} {what}, counted {counted}"
        raise segment_error(segment.ordinal, segment.id, detail)


def _check_reference(
    segment: RawSegment, name: str, fields: dict[str, Any], other: str, others: dict[str, Any]
) -> None:
    mine, theirs = _first(fields.get(name)), _first(others.get(other))
    if not same_number(mine, theirs):
        detail = f"{name} {mine!r} does not match {other} {theirs!r}"
        raise segment_error(segment.ordinal, segment.id, detail)


_HANDLERS: dict[str, Callable[[_State, RawSegment], Event | None]] = {
    "UNB": _unb,
    "UNG": _ung,
    "UNH": _unh,
    "UNT": _unt,
    "UNE": _une,
    "UNZ": _unz,
}
