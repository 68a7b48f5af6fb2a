"""Read UN/EDIFACT segments from a byte stream in constant memory.

The service string advice ``UNA:+.? '`` gives, in order, the component, element and decimal
separators, the release character, a reserved (repetition) character and the segment
terminator; without UNA the defaults ``:+.? '`` apply. A separator preceded by the release
character is data. Whitespace after a terminator is skipped; the first run is recorded as
``line_break`` so that generation can restore it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from splice.codecs.x12._segments import segment_error
from splice.errors import CodecError

__all__ = ["DEFAULT_UNA", "RawSegment", "SegmentReader", "Separators", "split_escaped", "unescape"]

DEFAULT_UNA = ":+.? '"
SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}\Z")
WHITESPACE = " \t\r\n\ufeff"
CHUNK = 1 << 16


@dataclass(frozen=True)
class Separators:
    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str = "?"
    reserved: str = " "
    segment: str = "'"
    una: bool = False
    line_break: str = ""

    @classmethod
    def from_una(cls, advice: str) -> Separators:
        component, element, decimal, release, reserved, segment = tuple(advice[:6])
        return cls(component, element, decimal, release, reserved, segment, una=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Separators:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def service_characters(self) -> str:
        reserved = "" if self.reserved == " " else self.reserved
        return self.release + self.component + self.element + self.segment + reserved


@dataclass(frozen=True)
class RawSegment:
    ordinal: int
    id: str
    fields: list[str]
    """Element texts after the segment id, still escaped."""
    separators: Separators


def split_escaped(text: str, separator: str, release: str) -> list[str]:
    """Split on ``separator`` where it is not preceded by the release character."""
    if release not in text:
        return text.split(separator)
    parts: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == release:
            current.append(char + next(chars, ""))
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def unescape(text: str, release: str) -> str:
    if release not in text:
        return text
    return re.sub(re.escape(release) + "(.)", r"\1", text, flags=re.S)


class SegmentReader:
    """Iterate the segments of one or more interchanges from a binary stream."""

    def __init__(self, stream: BinaryIO, *, encoding: str = "utf-8") -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._ordinal = 0

    def __iter__(self) -> Iterator[RawSegment]:
        separators: Separators | None = None
        fresh = False
        while self._skip_whitespace():
            if separators is None:
                separators, fresh = self._read_una(), True
                if not self._skip_whitespace():
                    return
            segment = self._next_segment(separators)
            if fresh:
                separators, fresh = self._with_line_break(separators), False
                segment = RawSegment(segment.ordinal, segment.id, segment.fields, separators)
            yield segment
            if segment.id == "UNZ":
                separators = None

    def _fill(self) -> bool:
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

    def _skip_whitespace(self) -> bool:
        while self._ensure(1):
            if self._buffer[self._pos] not in WHITESPACE:
                return True
            self._pos += 1
        return False

    def _read_una(self) -> Separators:
        self._ensure(9)
        if not self._buffer.startswith("UNA", self._pos):
            return Separators()
        advice = self._buffer[self._pos + 3 : self._pos + 9]
        if len(advice) < 6 or len(set(advice) - {" "}) < 5:
            raise segment_error(self._ordinal + 1, "UNA", f"bad service string advice {advice!r}")
        self._pos += 9
        return Separators.from_una(advice)

    def _with_line_break(self, separators: Separators) -> Separators:
        self._ensure(2)
        rest = self._buffer[self._pos : self._pos + 2]
        line_break = "\r\n" if rest == "\r\n" else rest[:1] if rest[:1] in ("\n", "\r") else ""
        fields = separators.as_dict() | {"line_break": line_break}
        return Separators.from_dict(fields)

    def _next_segment(self, separators: Separators) -> RawSegment:
        self._ordinal += 1
        end = self._find_terminator(separators, self._pos)
        while end < 0:
            searched = max(len(self._buffer) - self._pos - 1, 0)
            if not self._fill():
                text = self._buffer[self._pos : self._pos + 20]
                raise segment_error(self._ordinal, text[:3], f"segment not terminated: {text!r}")
            end = self._find_terminator(separators, self._pos + searched)
        text = self._buffer[self._pos : end]
        self._pos = end + 1
        segment_id, *fields = split_escaped(text, separators.element, separators.release)
        if not SEGMENT_ID.match(segment_id):
            raise segment_error(self._ordinal, segment_id[:3], f"bad segment tag {segment_id!r}")
        return RawSegment(self._ordinal, segment_id, fields, separators)

    def _find_terminator(self, separators: Separators, start: int) -> int:
        """Index of the next unreleased terminator, -1 when the buffer holds none."""
        buffer, release, terminator = self._buffer, separators.release, separators.segment
        index = buffer.find(terminator, max(start, self._pos))
        while index >= 0:
            escapes = 0
            while index - escapes - 1 >= self._pos and buffer[index - escapes - 1] == release:
                escapes += 1
            if escapes % 2 == 0:
                return index
            index = buffer.find(terminator, index + 1)
        return -1
