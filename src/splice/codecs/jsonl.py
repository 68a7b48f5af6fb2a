"""The ``jsonl`` codec: JSON Lines, one JSON value per line, streaming record by record.

``decode`` gives the list of values; ``iter_decode`` yields them one at a time and
``write_records`` writes one line each, so files of any size stream in constant memory.
Blank lines are skipped; an invalid line is an error naming its line number.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from pydantic import Field

from splice.codecs.base import Codec
from splice.codecs.json import ORJSON_MAX_DEPTH, dumps, loads
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import CodecError

__all__ = ["SPEC", "JsonLinesCodec", "JsonLinesOptions"]


class JsonLinesOptions(ComponentConfig):
    max_line_bytes: int = Field(
        16 * 1024 * 1024, ge=1, description="Refuse a line longer than this many bytes."
    )
    max_depth: int = Field(
        ORJSON_MAX_DEPTH, ge=1, le=ORJSON_MAX_DEPTH, description="Maximum nesting per value."
    )


SPEC = ComponentSpec(
    kind="codec",
    name="jsonl",
    summary="JSON Lines: one JSON value per line, streamed record by record.",
    config=JsonLinesOptions,
    example="decode: jsonl",
    factory="splice.codecs.jsonl:JsonLinesCodec",
)


class JsonLinesCodec(Codec):
    name = "jsonl"
    content_type = "application/jsonl"
    supports_records = True

    def __init__(self, options: JsonLinesOptions | None = None, context: Any = None) -> None:
        self.options = options or JsonLinesOptions()

    def decode(self, data: bytes) -> Any:
        return list(self.iter_decode(io.BytesIO(data)))

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, list | tuple):
            value = [value]
        out = io.BytesIO()
        self.write_records(value, out)
        return out.getvalue()

    def iter_decode(self, stream: BinaryIO) -> Iterator[Any]:
        limit = self.options.max_line_bytes
        for number, line in enumerate(iter(lambda: stream.readline(limit + 1), b""), start=1):
            if len(line) > limit and not line.endswith(b"\n"):
                raise CodecError(
                    f"line longer than max_line_bytes ({limit})", position=f"line {number}"
                )
            if not line.strip():
                continue
            try:
                yield loads(line, max_depth=self.options.max_depth)
            except CodecError as error:
                column = (error.position or "").rpartition("column ")[2] or "1"
                raise CodecError(
                    error.message.rpartition(" (at ")[0] or error.message,
                    position=f"line {number}, column {column}",
                ) from error

    def write_records(self, records: Iterable[Any], out: BinaryIO) -> None:
        for record in records:
            out.write(dumps(record) + b"\n")
