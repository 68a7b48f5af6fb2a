"""Generate X12 from the interchange JSON, with the interchange's own separators.

Trailers (SE, GE, IEA) given in the JSON are written as they are; missing ones are
computed (counts and control numbers), so a mapping only has to produce ISA, GS, ST and
the segments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO

from splice.codecs.x12._segments import join_element
from splice.codecs.x12._structure import flatten
from splice.errors import CodecError

__all__ = ["InterchangeWriter", "envelope_values", "generate", "interchanges_of"]

Document = Mapping[str, Any]


def envelope_values(fields: Mapping[str, Any], segment_id: str) -> list[str]:
    """``{"GS01": "PO", "GS03": "X"}`` -> ``["PO", "", "X"]`` (ordered by position)."""
    positions: dict[int, str] = {}
    for name, value in fields.items():
        suffix = name[len(segment_id) :]
        if not name.startswith(segment_id) or not suffix.isdigit():
            raise CodecError(f"{segment_id}: unexpected element name {name!r}")
        positions[int(suffix)] = "" if value is None else str(value)
    size = max(positions, default=0)
    return [positions.get(index, "") for index in range(1, size + 1)]


class InterchangeWriter:
    """Write interchanges segment by segment to a binary stream."""

    def __init__(self, out: BinaryIO, encoding: str = "utf-8") -> None:
        self._out = out
        self._encoding = encoding
        self._seps: Mapping[str, Any] = {}
        self._isa: Mapping[str, Any] = {}
        self._gs: Mapping[str, Any] = {}
        self.groups = 0
        self.transactions = 0

    def start_interchange(self, isa: Mapping[str, Any], separators: Mapping[str, Any]) -> None:
        self._isa, self._seps, self.groups = isa, separators, 0
        self._write_raw("ISA", envelope_values(isa, "ISA"))

    def start_group(self, gs: Mapping[str, Any]) -> None:
        self._gs, self.transactions = gs, 0
        self.groups += 1
        self._write_raw("GS", envelope_values(gs, "GS"))

    def transaction(self, transaction: Mapping[str, Any]) -> None:
        self.transactions += 1
        st = transaction["ST"]
        self._write_raw("ST", envelope_values(st, "ST"))
        count = 2
        for segment in flatten(transaction.get("segments", [])):
            self._write_segment(segment)
            count += 1
        se = transaction.get("SE") or {"SE01": str(count), "SE02": st.get("ST02", "")}
        self._write_raw("SE", envelope_values(se, "SE"))

    def end_group(self, ge: Mapping[str, Any] | None = None) -> None:
        ge = ge or {"GE01": str(self.transactions), "GE02": self._gs.get("GS06", "")}
        self._write_raw("GE", envelope_values(ge, "GE"))

    def end_interchange(self, iea: Mapping[str, Any] | None = None) -> None:
        iea = iea or {"IEA01": str(self.groups), "IEA02": self._isa.get("ISA13", "")}
        self._write_raw("IEA", envelope_values(iea, "IEA"))

    def _write_segment(self, segment: Mapping[str, Any]) -> None:
        component, repetition = self._seps["component"], self._seps.get("repetition")
        values = [join_element(e, component, repetition) for e in segment.get("elements", [])]
        self._write_raw(str(segment["id"]), values)

    def _write_raw(self, segment_id: str, values: list[str]) -> None:
        seps = self._seps
        text = seps["element"].join([segment_id, *values])
        line = text + seps["segment"] + (seps.get("line_break") or "")
        try:
            self._out.write(line.encode(self._encoding))
        except UnicodeEncodeError as exc:
            raise CodecError(
                f"segment {segment_id}: cannot encode {exc.object[exc.start : exc.end]!r}"
            ) from exc


def interchanges_of(document: Document) -> list[Mapping[str, Any]]:
    """The interchanges of a decoded document (``interchange`` or ``interchanges``)."""
    if "interchange" in document:
        return [document["interchange"]]
    if "interchanges" in document:
        return list(document["interchanges"])
    raise CodecError("an X12 document needs an 'interchange' (or 'interchanges') key")


def generate(document: Document, out: BinaryIO, encoding: str = "utf-8") -> None:
    writer = InterchangeWriter(out, encoding)
    for interchange in interchanges_of(document):
        _write_interchange(writer, interchange)


def _write_interchange(writer: InterchangeWriter, interchange: Mapping[str, Any]) -> None:
    writer.start_interchange(interchange["ISA"], interchange["separators"])
    for group in interchange.get("groups", []):
        writer.start_group(group["GS"])
        _write_transactions(writer, group.get("transactions", []))
        writer.end_group(group.get("GE"))
    writer.end_interchange(interchange.get("IEA"))


def _write_transactions(
    writer: InterchangeWriter, transactions: Iterable[Mapping[str, Any]]
) -> None:
    for transaction in transactions:
        writer.transaction(transaction)
