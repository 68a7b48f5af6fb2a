"""Segments as data, shared by the X12 and EDIFACT codecs.

A segment is ``{"id": "BEG", "elements": [...]}``. An element is a string; a composite
element is a list of component strings; a repeated element (X12 repetition separator) is
``{"repeat": [element, ...]}`` whose items are strings or composites.
"""

from __future__ import annotations

from typing import Any

from splice.errors import CodecError

__all__ = ["Element", "join_element", "segment_error", "split_element"]

Element = str | list[str] | dict[str, Any]


def segment_error(ordinal: int, segment_id: str, detail: str) -> CodecError:
    """A CodecError whose text starts with ``segment N (ID):`` and whose position says so."""
    error = CodecError(f"segment {ordinal} ({segment_id or '?'}): {detail}")
    error.position = f"segment {ordinal}"
    return error


def split_element(text: str, component: str, repetition: str | None) -> Element:
    """Split one raw element into a string, a composite list or a repetition."""
    if repetition and repetition in text:
        return {"repeat": [_split_components(part, component) for part in text.split(repetition)]}
    return _split_components(text, component)


def _split_components(text: str, component: str) -> str | list[str]:
    return text.split(component) if component in text else text


def join_element(value: Any, component: str, repetition: str | None) -> str:
    """The inverse of :func:`split_element`."""
    if isinstance(value, dict):
        if repetition is None:
            raise CodecError("a repeated element needs a repetition separator (ISA11)")
        return repetition.join(join_element(item, component, None) for item in value["repeat"])
    if isinstance(value, list):
        return component.join(str(part) for part in value)
    if value is None:
        return ""
    return str(value)
