"""The ``x12`` codec: ASC X12 interchanges to JSON and back, streaming per transaction set.

``decode`` gives ``{"interchange": {...}}`` (``{"interchanges": [...]}`` when a file holds
several); ``iter_decode`` yields one transaction set at a time with its envelope context,
in constant memory. See ``docs/guides/edi.md`` for the structure.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from pydantic import Field

from splice.codecs.base import Codec
from splice.codecs.x12._envelope import Event, iter_events
from splice.codecs.x12._reader import SegmentReader
from splice.codecs.x12._structure import load_definition, nest
from splice.codecs.x12._writer import InterchangeWriter, generate
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import CodecError

__all__ = ["SPEC", "X12Codec", "X12Options"]


class X12Options(ComponentConfig):
    encoding: str = Field("utf-8", description="Text encoding of the interchange.")
    lenient_isa: bool = Field(
        False,
        description="Accept an ISA whose elements are not padded to their fixed widths "
        "(separators are then found by counting element separators).",
    )
    check_envelope: bool = Field(
        True,
        description="Check envelope counts (SE01, GE01, IEA01) and control numbers "
        "(ST02=SE02, GS06=GE02, ISA13=IEA02).",
    )


SPEC = ComponentSpec(
    kind="codec",
    name="x12",
    summary="ASC X12 EDI interchanges (ISA/GS/ST) with loops, validation and streaming.",
    config=X12Options,
    example="decode: {format: x12}",
    factory="splice.codecs.x12.codec:X12Codec",
)


def _structure(transaction_set: str, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return nest(load_definition("splice.codecs.x12", transaction_set, "loop"), segments, "loop")


class X12Codec(Codec):
    name = "x12"
    supports_records = True
    content_type = "application/edi-x12"

    def __init__(self, options: X12Options | None = None, context: Any = None) -> None:
        self.options = options or X12Options()

    def decode(self, data: bytes) -> Any:
        interchanges = _assemble(self._events(io.BytesIO(data)))
        if not interchanges:
            raise CodecError("no X12 interchange found (empty input)")
        if len(interchanges) == 1:
            return {"interchange": interchanges[0]}
        return {"interchanges": interchanges}

    def encode(self, value: Any) -> bytes:
        out = io.BytesIO()
        generate(value, out, self.options.encoding)
        return out.getvalue()

    def iter_decode(self, stream: BinaryIO) -> Iterator[Any]:
        """One record per transaction set: ``{"interchange", "group", "transaction"}``."""
        interchange: dict[str, Any] = {}
        group: dict[str, Any] = {}
        for kind, data in self._events(stream):
            if kind == "interchange":
                interchange = data
            elif kind == "group":
                group = data
            elif kind == "transaction":
                yield {"interchange": interchange, "group": group, "transaction": data}

    def write_records(self, records: Iterable[Any], out: BinaryIO) -> None:
        """Write records shaped like ``iter_decode``'s; trailers are computed."""
        writer = InterchangeWriter(out, self.options.encoding)
        isa: Any = None
        gs: Any = None
        for record in records:
            if record["interchange"] != isa:
                if isa is not None:
                    writer.end_group()
                    writer.end_interchange()
                isa, gs = record["interchange"], None
                writer.start_interchange(isa["ISA"], isa["separators"])
            if record["group"] != gs:
                if gs is not None:
                    writer.end_group()
                gs = record["group"]
                writer.start_group(gs["GS"])
            writer.transaction(record["transaction"])
        if isa is not None:
            writer.end_group()
            writer.end_interchange()

    def _events(self, stream: BinaryIO) -> Iterator[Event]:
        options = self.options
        reader = SegmentReader(stream, encoding=options.encoding, lenient_isa=options.lenient_isa)
        return iter_events(reader, _structure, validate=options.check_envelope)


def _assemble(events: Iterable[Event]) -> list[dict[str, Any]]:
    interchanges: list[dict[str, Any]] = []
    group: dict[str, Any] = {}
    for kind, data in events:
        if kind == "interchange":
            interchanges.append({**data, "groups": []})
        elif kind == "group":
            group = {**data, "transactions": []}
            interchanges[-1]["groups"].append(group)
        elif kind == "transaction":
            group["transactions"].append(data)
        else:
            (interchanges[-1] if kind == "interchange_end" else group).update(data)
    return interchanges
