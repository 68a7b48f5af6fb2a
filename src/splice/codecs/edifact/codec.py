"""The ``edifact`` codec: UN/EDIFACT interchanges to JSON and back, streaming per message.

``decode`` gives ``{"interchange": {...}}`` (``{"interchanges": [...]}`` for several);
``iter_decode`` yields one message (UNH..UNT) at a time with its envelope context. See
``docs/guides/edi.md`` for the structure.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from pydantic import Field

from splice.codecs.base import Codec
from splice.codecs.edifact._envelope import Event, iter_events
from splice.codecs.edifact._reader import SegmentReader
from splice.codecs.edifact._writer import MessageWriter, generate
from splice.codecs.x12._structure import load_definition, nest
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import CodecError

__all__ = ["SPEC", "EdifactCodec", "EdifactOptions"]


class EdifactOptions(ComponentConfig):
    encoding: str = Field(
        "utf-8", description="Text encoding (UNOA/UNOB/UNOC data fits UTF-8 or latin-1)."
    )
    check_envelope: bool = Field(
        True,
        description="Check UNT01 (segment count), UNT02=UNH01, UNE01/UNE02 and UNZ01/UNZ02.",
    )


SPEC = ComponentSpec(
    kind="codec",
    name="edifact",
    summary="UN/EDIFACT interchanges (UNA/UNB/UNH) with segment groups, validation and streaming.",
    config=EdifactOptions,
    example="decode: {format: edifact}",
    factory="splice.codecs.edifact.codec:EdifactCodec",
)


def _structure(message_type: str, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    definition = load_definition("splice.codecs.edifact", message_type, "group")
    return nest(definition, segments, "group")


class EdifactCodec(Codec):
    name = "edifact"
    supports_records = True
    content_type = "application/edifact"

    def __init__(self, options: EdifactOptions | None = None, context: Any = None) -> None:
        self.options = options or EdifactOptions()

    def decode(self, data: bytes) -> Any:
        interchanges = _assemble(self._events(io.BytesIO(data)))
        if not interchanges:
            raise CodecError("no EDIFACT interchange found (empty input)")
        if len(interchanges) == 1:
            return {"interchange": interchanges[0]}
        return {"interchanges": interchanges}

    def encode(self, value: Any) -> bytes:
        out = io.BytesIO()
        generate(value, out, self.options.encoding)
        return out.getvalue()

    def iter_decode(self, stream: BinaryIO) -> Iterator[Any]:
        """One record per message: ``{"interchange", "group", "message"}``."""
        interchange: dict[str, Any] = {}
        group: dict[str, Any] | None = None
        for kind, data in self._events(stream):
            if kind == "interchange":
                interchange, group = data, None
            elif kind == "group":
                group = data
            elif kind == "group_end":
                group = None
            elif kind == "message":
                yield {"interchange": interchange, "group": group, "message": data}

    def write_records(self, records: Iterable[Any], out: BinaryIO) -> None:
        """Write records shaped like ``iter_decode``'s; trailers are computed."""
        writer = MessageWriter(out, self.options.encoding)
        unb: Any = None
        ung: Any = None
        for record in records:
            if record["interchange"] != unb or record["group"] != ung:
                _close(writer, unb, ung, interchange=record["interchange"] != unb)
                if record["interchange"] != unb:
                    unb = record["interchange"]
                    writer.start_interchange(unb["UNB"], unb["separators"])
                ung = record["group"]
                if ung is not None:
                    writer.start_group(ung["UNG"])
            writer.message(record["message"], in_group=ung is not None)
        _close(writer, unb, ung, interchange=True)

    def _events(self, stream: BinaryIO) -> Iterator[Event]:
        reader = SegmentReader(stream, encoding=self.options.encoding)
        return iter_events(reader, _structure, validate=self.options.check_envelope)


def _close(writer: MessageWriter, unb: Any, ung: Any, *, interchange: bool) -> None:
    if ung is not None:
        writer.end_group()
    if interchange and unb is not None:
        writer.end_interchange()


def _assemble(events: Iterable[Event]) -> list[dict[str, Any]]:
    interchanges: list[dict[str, Any]] = []
    group: dict[str, Any] | None = None
    for kind, data in events:
        if kind == "interchange":
            interchanges.append({**data, "messages": []})
        elif kind == "group":
            group = {**data, "messages": []}
            interchanges[-1].setdefault("groups", []).append(group)
        elif kind == "message":
            (group or interchanges[-1])["messages"].append(data)
        elif kind == "group_end" and group is not None:
            group.update(data)
            group = None
        else:
            interchanges[-1].update(data)
    for interchange in interchanges:
        if "groups" in interchange and not interchange["messages"]:
            del interchange["messages"]
    return interchanges
