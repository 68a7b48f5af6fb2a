"""Generate EDIFACT from the interchange JSON, escaping service characters.

UNA is written when the interchange recorded one (or its separators differ from the
defaults). Trailers (UNT, UNE, UNZ) given in the JSON are written as they are; missing ones
are computed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO

from splice.codecs.edifact._reader import DEFAULT_UNA, Separators
from splice.codecs.x12._structure import flatten
from splice.errors import CodecError

__all__ = ["MessageWriter", "generate", "interchanges_of"]


def _ordered(fields: Mapping[str, Any], segment_id: str) -> list[Any]:
    positions: dict[int, Any] = {}
    for name, value in fields.items():
        suffix = name[len(segment_id) :]
        if not name.startswith(segment_id) or not suffix.isdigit():
            raise CodecError(f"{segment_id}: unexpected element name {name!r}")
        positions[int(suffix)] = value
    return [positions.get(i, "") for i in range(1, max(positions, default=0) + 1)]


class MessageWriter:
    """Write interchanges segment by segment to a binary stream."""

    def __init__(self, out: BinaryIO, encoding: str = "utf-8") -> None:
        self._out, self._encoding = out, encoding
        self._seps = Separators()
        self._escape = re.compile("")
        self._unb: Mapping[str, Any] = {}
        self._ung: Mapping[str, Any] = {}
        self.units = 0
        self.messages = 0

    def start_interchange(self, unb: Mapping[str, Any], separators: Mapping[str, Any]) -> None:
        seps = self._seps = Separators.from_dict(dict(separators))
        self._escape = re.compile(f"[{re.escape(seps.service_characters())}]")
        advice = seps.component + seps.element + seps.decimal + seps.release + seps.reserved
        if seps.una or advice + seps.segment != DEFAULT_UNA:
            self._write_text("UNA" + advice + seps.segment + seps.line_break)
        self._unb, self.units = unb, 0
        self._write("UNB", _ordered(unb, "UNB"))

    def start_group(self, ung: Mapping[str, Any]) -> None:
        self._ung, self.messages = ung, 0
        self.units += 1
        self._write("UNG", _ordered(ung, "UNG"))

    def message(self, message: Mapping[str, Any], *, in_group: bool) -> None:
        if in_group:
            self.messages += 1
        else:
            self.units += 1
        unh = message["UNH"]
        self._write("UNH", _ordered(unh, "UNH"))
        count = 2
        for segment in flatten(message.get("segments", [])):
            self._write(str(segment["id"]), list(segment.get("elements", [])))
            count += 1
        unt = message.get("UNT") or {"UNT01": str(count), "UNT02": unh.get("UNH01", "")}
        self._write("UNT", _ordered(unt, "UNT"))

    def end_group(self, une: Mapping[str, Any] | None = None) -> None:
        une = une or {"UNE01": str(self.messages), "UNE02": self._ung.get("UNG05", "")}
        self._write("UNE", _ordered(une, "UNE"))

    def end_interchange(self, unz: Mapping[str, Any] | None = None) -> None:
        unz = unz or {"UNZ01": str(self.units), "UNZ02": self._unb.get("UNB05", "")}
        self._write("UNZ", _ordered(unz, "UNZ"))

    def _element(self, value: Any) -> str:
        if isinstance(value, list):
            return self._seps.component.join(self._element(part) for part in value)
        text = "" if value is None else str(value)
        return self._escape.sub(lambda m: self._seps.release + m.group(0), text)

    def _write(self, segment_id: str, elements: list[Any]) -> None:
        seps = self._seps
        text = seps.element.join([segment_id, *(self._element(e) for e in elements)])
        self._write_text(text + seps.segment + seps.line_break)

    def _write_text(self, text: str) -> None:
        try:
            self._out.write(text.encode(self._encoding))
        except UnicodeEncodeError as exc:
            raise CodecError(f"cannot encode {exc.object[exc.start : exc.end]!r}") from exc


def interchanges_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "interchange" in document:
        return [document["interchange"]]
    if "interchanges" in document:
        return list(document["interchanges"])
    raise CodecError("an EDIFACT document needs an 'interchange' (or 'interchanges') key")


def generate(document: Mapping[str, Any], out: BinaryIO, encoding: str = "utf-8") -> None:
    writer = MessageWriter(out, encoding)
    for interchange in interchanges_of(document):
        writer.start_interchange(interchange["UNB"], interchange["separators"])
        for group in interchange.get("groups", []):
            writer.start_group(group["UNG"])
            _messages(writer, group.get("messages", []), in_group=True)
            writer.end_group(group.get("UNE"))
        _messages(writer, interchange.get("messages", []), in_group=False)
        writer.end_interchange(interchange.get("UNZ"))


def _messages(
    writer: MessageWriter, messages: Iterable[Mapping[str, Any]], *, in_group: bool
) -> None:
    for message in messages:
        writer.message(message, in_group=in_group)
