"""Read X12 segments from a byte stream in constant memory.

Separators are detected from each ISA segment: the element separator is the character at
offset 3, ISA11 is the repetition separator from version 00402 on (when it is not a letter
or digit), ISA16 is the component separator and the character after it ends the segment.
Whitespace between segments (CR, LF, tabs, indentation) is skipped; the first run after the
ISA is recorded as the interchange's ``line_break`` so that generation can restore it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from splice.codecs.x12._segments import segment_error
from splice.errors import CodecError

__all__ = ["ISA_WIDTHS", "RawSegment", "SegmentReader", "Separators"]

ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
ISA_LENGTH = 106
SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
WHITESPACE = " \t\r\n\ufeff"
CHUNK = 1 << 16


@dataclass(frozen=True)
class Separators:
    element: str
    component: str
    repetition: str | None
    segment: str
    line_break: str = ""

    def as_dict(self) -> dict[str, str | None]:
        return {
            "element": self.element,
            "component": self.component,
            "repetition": self.repetition,
            "segment": self.segment,
            "line_break": self.line_break,
        }


@dataclass(frozen=True)
class RawSegment:
    ordinal: int
    id: str
    fields: list[str]
    """Raw element texts after the segment id (not yet split into components)."""
    separators: Separators


class SegmentReader:
    """Iterate the segments of one or more interchanges from a binary stream."""

    def __init__(self, stream: BinaryIO, *, encoding: str = "utf-8", lenient_isa: bool = False):
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._lenient = lenient_isa
        self._ordinal = 0

    def __iter__(self) -> Iterator[RawSegment]:
        separators: Separators | None = None
        while self._skip_whitespace(separators):
            if separators is None:
                separators = self._read_isa_separators()
            segment = self._next_segment(separators)
            if segment.id == "ISA":
                separators = self._with_line_break(separators)
                segment = RawSegment(segment.ordinal, "ISA", segment.fields, separators)
            yield segment
            if segment.id == "IEA":
                separators = None

    # -- buffer -------------------------------------------------------------------------

    def _fill(self) -> bool:
        """Read one more chunk; False at end of stream."""
        if self._eof:
            return False
        chunk = self._stream.read(CHUNK)
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise CodecError(f"not valid text in the configured encoding: {exc.reason}") from exc
        self._buffer = self._buffer[self._pos :] + text
        self._pos = 0
        self._eof = not chunk
        return bool(chunk) or bool(text)

    def _ensure(self, count: int) -> bool:
        while len(self._buffer) - self._pos < count:
            if not self._fill():
                return False
        return True

    def _skip_whitespace(self, separators: Separators | None) -> bool:
        """Skip whitespace between segments; False when the stream is exhausted."""
        used = set() if separators is None else {separators.element, separators.segment}
        while self._ensure(1):
            char = self._buffer[self._pos]
            if char not in WHITESPACE or char in used:
                return True
            self._pos += 1
        return False

    # -- ISA ----------------------------------------------------------------------------

    def _read_isa_separators(self) -> Separators:
        self._ensure(ISA_LENGTH)
        head = self._buffer[self._pos : self._pos + 4]
        if not head.startswith("ISA") or len(head) < 4:
            found = re.split(r"[^A-Za-z0-9]", head, maxsplit=1)[0][:3]
            detail = "expected an ISA segment to start the interchange"
            raise segment_error(self._ordinal + 1, found, detail)
        fields = self._isa_fields(head[3])
        if not self._lenient:
            self._check_widths(fields)
        component, terminator = fields[16], fields[17]
        repetition = fields[11] if fields[12] >= "00402" and not fields[11].isalnum() else None
        separators = Separators(head[3], component, repetition, terminator)
        _check_distinct(self._ordinal + 1, separators)
        return separators

    def _check_widths(self, fields: list[str]) -> None:
        for index, (value, width) in enumerate(zip(fields[1:16], ISA_WIDTHS, strict=False), 1):
            if len(value) != width:
                detail = (
                    f"ISA{index:02d} must be {width} characters, found {len(value)} ({value!r})"
                )
                raise segment_error(self._ordinal + 1, "ISA", detail + "; lenient_isa accepts it")

    def _isa_fields(self, element: str) -> list[str]:
        """ISA, ISA01..ISA16 and the terminator, found by counting element separators."""
        start = self._pos
        while True:
            text = self._buffer[start:]
            parts = text.split(element, 16)
            if len(parts) == 17 and len(parts[16]) >= 2:
                return [*parts[:16], parts[16][0], parts[16][1]]
            if len(text) > 4096 or not self._fill():
                raise segment_error(self._ordinal + 1, "ISA", "the ISA segment is incomplete")
            start = self._pos

    def _with_line_break(self, separators: Separators) -> Separators:
        self._ensure(2)
        rest = self._buffer[self._pos : self._pos + 2]
        line_break = "\r\n" if rest == "\r\n" else rest[:1] if rest[:1] in ("\n", "\r") else ""
        if line_break and line_break[0] == separators.segment:
            line_break = ""
        return Separators(
            separators.element,
            separators.component,
            separators.repetition,
            separators.segment,
            line_break,
        )

    # -- segments -----------------------------------------------------------------------

    def _next_segment(self, separators: Separators) -> RawSegment:
        self._ordinal += 1
        end = self._buffer.find(separators.segment, self._pos)
        while end < 0:
            searched = len(self._buffer) - self._pos
            if not self._fill():
                text = self._buffer[self._pos : self._pos + 20]
                raise segment_error(self._ordinal, text[:3], f"segment not terminated: {text!r}")
            end = self._buffer.find(separators.segment, self._pos + searched)
        text = self._buffer[self._pos : end]
        self._pos = end + 1
        segment_id, *fields = text.split(separators.element)
        if not SEGMENT_ID.match(segment_id):
            raise segment_error(self._ordinal, segment_id, f"bad segment identifier {segment_id!r}")
        return RawSegment(self._ordinal, segment_id, fields, separators)


def _check_distinct(ordinal: int, separators: Separators) -> None:
    used = [separators.element, separators.component, separators.segment]
    if separators.repetition:
        used.append(separators.repetition)
    if len(set(used)) != len(used):
        raise segment_error(ordinal, "ISA", f"separators must differ, found {used!r}")
