"""The ``json`` codec: RFC 8259 JSON to plain Python data and back, with orjson.

Numbers keep their meaning: ``19.99`` re-encodes as ``19.99`` and ``21.0`` as ``21.0``;
integers beyond 64 bits, which orjson would turn into floats, are read again with the
standard library so that every digit is kept. Invalid UTF-8, lone surrogates, a number too
large for a double (``1e999``), ``NaN``/``Infinity`` and trailing content are refused with
the line and column. A UTF-8 byte order mark is skipped.
"""

from __future__ import annotations

import json as stdlib_json
import re
from decimal import Decimal
from typing import Any

import orjson
from pydantic import Field

from splice.codecs.base import DEFAULT_MAX_BYTES, Codec, check_size
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import CodecError

__all__ = ["SPEC", "JsonCodec", "JsonOptions", "dumps", "loads", "loads_plain"]

ORJSON_MAX_DEPTH = 1024
_BOM = b"\xef\xbb\xbf"
_LONG_INT = re.compile(rb"(?<![\w.+-])-?\d{19,}(?![\d.eE])")
_BIG_EXPONENT = re.compile(rb"(?<=[\d.])[eE][+-]?\d{3,}")
_INT64 = range(-(2**63), 2**64)
_SHAPES = bytes(
    ord("9")
    if chr(b).isdigit() and b < 128
    else ord("e")
    if b in b"eE"
    else ord("+")
    if b in b"+-"
    else ord(" ")
    for b in range(256)
)
"""Digits to 9, exponent letters to e, signs to +, the rest to a space: a cheap pre-scan."""
_NINETEEN_DIGITS = b"9" * 19
_SIXTEEN_DIGITS = b"9" * 16
_PLAIN_NESTING = 1024


def _may_need_exact(data: bytes, shapes: bytes) -> bool:
    """True when the document may hold a 19-digit integer or a 3-digit exponent.

    ``shapes`` is ``data.translate(_SHAPES, b"+-")``: signs are dropped, so that ``e+999``
    reads ``e999`` (one search less); dropping a character can only join runs, so nothing
    that matters is missed.
    """
    if _NINETEEN_DIGITS not in shapes and b"e999" not in shapes:
        return False
    return bool(_LONG_INT.search(data) or _BIG_EXPONENT.search(data))


class JsonOptions(ComponentConfig):
    max_bytes: int = Field(
        DEFAULT_MAX_BYTES, ge=1, description="Refuse documents larger than this many bytes."
    )
    max_depth: int = Field(
        ORJSON_MAX_DEPTH,
        ge=1,
        le=ORJSON_MAX_DEPTH,
        description="Refuse documents nested deeper than this (arrays and objects).",
    )
    pretty: bool = Field(False, description="Encode with two-space indentation.")


SPEC = ComponentSpec(
    kind="codec",
    name="json",
    summary="JSON documents; numbers keep every digit (19.99 stays 19.99).",
    config=JsonOptions,
    example="decode: {format: json, options: {max_bytes: 1048576}}",
    factory="splice.codecs.json:JsonCodec",
)


class JsonCodec(Codec):
    name = "json"
    content_type = "application/json"

    def __init__(self, options: JsonOptions | None = None, context: Any = None) -> None:
        self.options = options or JsonOptions()

    def decode(self, data: bytes) -> Any:
        check_size(data, self.options.max_bytes, "JSON")
        return loads(data, max_depth=self.options.max_depth)

    def decode_plain(self, data: bytes) -> tuple[Any, bool]:
        """:meth:`decode`, and whether the value is known plain (:func:`loads_plain`)."""
        check_size(data, self.options.max_bytes, "JSON")
        return loads_plain(data, max_depth=self.options.max_depth)

    def encode(self, value: Any) -> bytes:
        return dumps(value, pretty=self.options.pretty)


def loads(data: bytes | bytearray | memoryview | str, *, max_depth: int = ORJSON_MAX_DEPTH) -> Any:
    """Parse one JSON document; CodecError with ``line L, column C`` when it is not JSON."""
    return loads_plain(data, max_depth=max_depth)[0]


def loads_plain(
    data: bytes | bytearray | memoryview | str, *, max_depth: int = ORJSON_MAX_DEPTH
) -> tuple[Any, bool]:
    """:func:`loads`, and whether the value is known plain (see :attr:`Message.plain`): read
    by orjson alone, no number of 16 digits or more (so every integer is within 2**53), fewer
    than 1024 ``[`` and ``{`` in all (so it is less deep than that)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    data = bytes(data)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise _decode_error(data, error) from error
    shapes = data.translate(_SHAPES, b"+-")
    plain = _SIXTEEN_DIGITS not in shapes and b"e999" not in shapes
    if not plain and _may_need_exact(data, shapes):
        value = _exact(data)
    if max_depth < ORJSON_MAX_DEPTH and _too_deep(value, max_depth):
        raise CodecError(f"JSON is nested deeper than max_depth ({max_depth})")
    return value, plain and data.count(b"[") + data.count(b"{") < _PLAIN_NESTING


def _decode_error(data: bytes, error: orjson.JSONDecodeError) -> CodecError:
    if "UTF-8" in error.msg:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            return CodecError("not valid JSON: invalid UTF-8", position=_place(data, bad.start))
    message = error.msg.removesuffix(f": line {error.lineno} column {error.colno}")
    return CodecError(
        f"not valid JSON: {message}", position=f"line {error.lineno}, column {error.colno}"
    )


def _place(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - data.rfind(b"\n", 0, offset)
    return f"line {line}, column {column}"


def _exact(data: bytes) -> Any:
    """Parse again (already known valid) keeping long integers exactly, refusing underflow."""
    try:
        return stdlib_json.loads(data.decode("utf-8"), parse_float=_float)
    except RecursionError as error:
        raise CodecError("JSON with very long numbers is nested too deeply") from error


def _float(text: str) -> float:
    value = float(text)
    if value == 0.0 and any(digit in "123456789" for digit in text.split("e")[0].split("E")[0]):
        raise CodecError(f"not valid JSON: number {text[:40]} is too small for a double")
    return value


def _too_deep(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def dumps(value: Any, *, pretty: bool = False) -> bytes:
    """Encode plain data as JSON (UTF-8); Decimals and big integers are written exactly."""
    option = orjson.OPT_INDENT_2 if pretty else 0
    try:
        return orjson.dumps(value, default=_default, option=option)
    except orjson.JSONEncodeError as error:
        if "64-bit" not in str(error):
            raise CodecError(f"cannot encode as JSON: {error}") from error
    try:
        return orjson.dumps(_fragments(value), default=_default, option=option)
    except orjson.JSONEncodeError as error:
        raise CodecError(f"cannot encode as JSON: {error}") from error


def _default(value: Any) -> Any:
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(str(value))
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON")


def _fragments(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value not in _INT64:
        return orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {key: _fragments(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_fragments(item) for item in value]
    return value
