"""The ``csv`` codec: delimited text to rows and back, streaming row by row.

With a header row (the default) a document decodes to a list of objects whose values are
strings; with ``header: false`` to a list of lists. A row with a different number of fields
than the header is an error naming the row (``strict: false`` pads short rows with ``""``
and keeps extra fields in ``"_extra"``). ``iter_decode`` and ``write_records`` hold one row
at a time, so files of any size stream in constant memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, BinaryIO

from pydantic import Field, field_validator

from splice.codecs.base import Codec
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import CodecError

__all__ = ["SPEC", "CsvCodec", "CsvOptions"]


class CsvOptions(ComponentConfig):
    header: bool = Field(True, description="The first row names the columns (rows → objects).")
    columns: list[str] | None = Field(
        None,
        description="Column names to use; replaces the header row when reading, picks and "
        "orders the columns when writing.",
    )
    delimiter: str = Field(",", min_length=1, max_length=1, description="Field separator.")
    quotechar: str = Field('"', min_length=1, max_length=1, description="Quote character.")
    escapechar: str | None = Field(
        None, min_length=1, max_length=1, description="Escape character (none by default)."
    )
    encoding: str = Field(
        "utf-8", description="Character encoding, e.g. utf-8 (BOM skipped), latin-1, utf-16."
    )
    skip_blank_lines: bool = Field(True, description="Ignore empty lines when reading.")
    strict: bool = Field(True, description="Refuse rows whose field count differs from the header.")
    line_terminator: str = Field(
        "\n", description="End of line when writing ('\\r\\n' for RFC 4180)."
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as error:
            raise ValueError(f"unknown encoding '{value}'") from error
        return value


SPEC = ComponentSpec(
    kind="codec",
    name="csv",
    summary="Delimited text: rows as objects (header) or lists; streams row by row.",
    config=CsvOptions,
    example="decode: {format: csv, options: {delimiter: ';'}}",
    factory="splice.codecs.csv:CsvCodec",
)


class CsvCodec(Codec):
    name = "csv"
    content_type = "text/csv"
    supports_records = True

    def __init__(self, options: CsvOptions | None = None, context: Any = None) -> None:
        self.options = options or CsvOptions()
        self._format: dict[str, Any] = {
            "delimiter": self.options.delimiter,
            "quotechar": self.options.quotechar,
            "escapechar": self.options.escapechar,
        }
        encoding = codecs.lookup(self.options.encoding).name
        self._read_encoding = "utf-8-sig" if encoding == "utf-8" else self.options.encoding

    def decode(self, data: bytes) -> Any:
        return list(self.iter_decode(io.BytesIO(data)))

    def encode(self, value: Any) -> bytes:
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list | tuple):
            raise CodecError(
                f"cannot write CSV: expected a list of rows, got {type(value).__name__}"
            )
        out = io.BytesIO()
        self._write(value, out, _all_keys(value))
        return out.getvalue()

    def iter_decode(self, stream: BinaryIO) -> Iterator[Any]:
        text = io.TextIOWrapper(stream, encoding=self._read_encoding, newline="")
        try:
            yield from self._rows(csv.reader(text, strict=True, **self._format))
        except UnicodeDecodeError as error:
            raise CodecError(f"not {self.options.encoding} text: {error.reason}") from error
        finally:
            text.detach()

    def write_records(self, records: Iterable[Any], out: BinaryIO) -> None:
        self._write(records, out, None)

    def _rows(self, reader: Any) -> Iterator[Any]:
        options = self.options
        names = options.columns
        rows = enumerate(reader, start=1)
        try:
            if options.header:
                for _record, row in rows:
                    if row or not options.skip_blank_lines:
                        names = names or row
                        break
            if names is None:
                for _record, row in rows:
                    if row or not options.skip_blank_lines:
                        yield row
                return
            width = len(names)
            for record, row in rows:
                if len(row) == width and width:
                    yield dict(zip(names, row, strict=False))  # lengths checked: faster
                elif row or not options.skip_blank_lines:
                    yield self._ragged(names, row, record, reader.line_num)
        except csv.Error as error:
            raise CodecError(
                f"not valid CSV: {error}", position=f"line {reader.line_num}"
            ) from error

    def _ragged(self, names: list[str], row: list[str], record: int, line: int) -> Any:
        if self.options.strict:
            raise CodecError(
                f"row {record} has {len(row)} fields, expected {len(names)}",
                position=f"row {record}, line {line}",
            )
        value: dict[str, Any] = dict(zip(names, row + [""] * (len(names) - len(row)), strict=False))
        if len(row) > len(names):
            value["_extra"] = row[len(names) :]
        return value

    def _write(self, rows: Iterable[Any], out: BinaryIO, keys: list[str] | None) -> None:
        options = self.options
        text = io.TextIOWrapper(out, encoding=options.encoding, newline="", write_through=True)
        writer = csv.writer(text, lineterminator=options.line_terminator, **self._format)
        columns = options.columns or keys
        try:
            for index, row in enumerate(rows, start=1):
                if isinstance(row, dict):
                    if columns is None:
                        columns = list(row)
                    if index == 1 and options.header:
                        writer.writerow(columns)
                    writer.writerow([_cell(row.get(key), index, key) for key in columns])
                elif isinstance(row, list | tuple):
                    if index == 1 and options.header and options.columns:
                        writer.writerow(options.columns)
                    writer.writerow([_cell(cell, index, str(n)) for n, cell in enumerate(row)])
                else:
                    raise CodecError(
                        f"cannot write CSV: row {index} is a {type(row).__name__}",
                        position=f"row {index}",
                    )
        except (csv.Error, UnicodeEncodeError) as error:
            raise CodecError(f"cannot write CSV: {error}") from error
        finally:
            text.detach()


def _all_keys(rows: Iterable[Any]) -> list[str] | None:
    keys: dict[str, None] = {}
    for row in rows:
        if isinstance(row, dict):
            keys.update(dict.fromkeys(row))
    return list(keys) if keys else None


def _cell(value: Any, row: int, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    raise CodecError(
        f"cannot write CSV: a {type(value).__name__} cannot be a cell",
        position=f"row {row}, column {column}",
    )
