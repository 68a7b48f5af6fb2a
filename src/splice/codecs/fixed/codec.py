"""The ``fixed`` codec: fixed-width records (COBOL copybook style) to JSON and back.

Record types are chosen by a discriminator; fields are text, int, zoned or packed decimal
(COMP-3), big-endian binary (COMP) or dates, in any encoding including EBCDIC (cp037,
cp500). ``decode`` gives a list of ``{"type": ..., field: value}``; ``iter_decode`` yields
them one by one. Errors name the record number, the field and the byte offset.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import Field

from splice.codecs.base import Codec
from splice.codecs.fixed._fields import decode_field, encode_field
from splice.codecs.fixed._layout import Layout, RecordSpec, load_layout
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import CodecError

__all__ = ["SPEC", "FixedOptions", "FixedWidthCodec"]

CHUNK = 1 << 16


class FixedOptions(ComponentConfig):
    layout: str = Field(description="Layout file (YAML), relative to the project folder.")


SPEC = ComponentSpec(
    kind="codec",
    name="fixed",
    summary="Fixed-width records with record types, zoned/packed decimals and EBCDIC.",
    config=FixedOptions,
    example="decode: {format: fixed, layout: layouts/orders.yaml}",
    factory="splice.codecs.fixed.codec:FixedWidthCodec",
)


def _field_error(record: int, spec_name: str, offset: int, detail: str) -> CodecError:
    return CodecError(detail, position=f"record {record}, field {spec_name}, byte {offset}")


class FixedWidthCodec(Codec):
    name = "fixed"
    supports_records = True
    content_type = "application/octet-stream"

    def __init__(self, options: FixedOptions, context: Any = None) -> None:
        base = Path(getattr(context, "project_dir", None) or Path.cwd())
        self.layout = load_layout(base / options.layout)

    @classmethod
    def from_layout(cls, layout: Layout) -> FixedWidthCodec:
        codec = cls.__new__(cls)
        codec.layout = layout
        return codec

    def decode(self, data: bytes) -> Any:
        return list(self.iter_decode(io.BytesIO(data)))

    def encode(self, value: Any) -> bytes:
        out = io.BytesIO()
        self.write_records(value, out)
        return out.getvalue()

    def iter_decode(self, stream: BinaryIO) -> Iterator[Any]:
        offset = 0
        raw_records = self._split(stream) if self.layout.separator else self._fixed(stream)
        for number, raw in enumerate(raw_records, 1):
            yield self._decode_record(number, offset, raw)
            offset += len(raw) + len(self.layout.separator)

    def write_records(self, records: Iterable[Any], out: BinaryIO) -> None:
        offset = 0
        for number, record in enumerate(records, 1):
            data = self._encode_record(number, record, offset) + self.layout.separator
            out.write(data)
            offset += len(data)

    # -- reading ------------------------------------------------------------------------

    def _split(self, stream: BinaryIO) -> Iterator[bytes]:
        separator, buffer = self.layout.separator, b""
        while chunk := stream.read(CHUNK):
            *complete, buffer = (buffer + chunk).split(separator)
            yield from complete
        if buffer:
            yield buffer

    def _fixed(self, stream: BinaryIO) -> Iterator[bytes]:
        head_size = self._head_size()
        while head := stream.read(head_size):
            size = self._record_for(head, 0, 0).size if len(head) == head_size else head_size
            yield head + stream.read(max(size - len(head), 0))

    def _head_size(self) -> int:
        discriminator = self.layout.discriminator
        if discriminator is None:
            return self.layout.records[0].size
        return min(
            discriminator.start - 1 + discriminator.length, *(r.size for r in self.layout.records)
        )

    def _record_for(self, raw: bytes, number: int, offset: int) -> RecordSpec:
        discriminator = self.layout.discriminator
        if discriminator is None:
            return self.layout.records[0]
        start = discriminator.start - 1
        value = raw[start : start + discriminator.length].decode(self.layout.encoding, "replace")
        for record in self.layout.records:
            if record.when == value:
                return record
        raise CodecError(
            f"no record type for discriminator {value!r}",
            position=f"record {number}, byte {offset + start}",
        )

    def _decode_record(self, number: int, offset: int, raw: bytes) -> dict[str, Any]:
        spec = self._record_for(raw, number, offset)
        if len(raw) < spec.size:
            detail = f"record is {len(raw)} bytes, type {spec.type!r} needs {spec.size}"
            raise CodecError(detail, position=f"record {number}, byte {offset}")
        result: dict[str, Any] = {"type": spec.type}
        for field in spec.fields:
            try:
                result[field.name] = decode_field(
                    raw[field.position : field.end], field, self.layout.encoding
                )
            except (ValueError, UnicodeError) as exc:
                raise _field_error(number, field.name, offset + field.position, str(exc)) from exc
        return result

    # -- writing ------------------------------------------------------------------------

    def _encode_record(self, number: int, record: dict[str, Any], offset: int) -> bytes:
        spec = self._spec_named(number, record.get("type"))
        encoding = self.layout.encoding
        data = bytearray(" ".encode(encoding) * spec.size)
        if self.layout.discriminator is not None and spec.when is not None:
            start = self.layout.discriminator.start - 1
            data[start : start + self.layout.discriminator.length] = spec.when.encode(encoding)
        for field in spec.fields:
            try:
                data[field.position : field.end] = encode_field(
                    record.get(field.name), field, encoding
                )
            except (ValueError, UnicodeError) as exc:
                raise _field_error(number, field.name, offset + field.position, str(exc)) from exc
        return bytes(data)

    def _spec_named(self, number: int, type_name: Any) -> RecordSpec:
        if type_name is None and len(self.layout.records) == 1:
            return self.layout.records[0]
        for record in self.layout.records:
            if record.type == type_name:
                return record
        raise CodecError(f"unknown record type {type_name!r}", position=f"record {number}")
