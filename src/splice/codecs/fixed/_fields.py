"""Field values: bytes of one field <-> JSON values, Decimal-exact.

Numbers with implied decimals become JSON numbers whose repr is exact (``0.3``, never
``0.30000000000000004``); a value a float cannot hold exactly (more than 15-17 significant
digits) becomes a string, as do integers beyond 2**53. Errors are ValueErrors; the codec
adds the record, field and byte offset.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from splice.codecs.fixed._layout import FieldSpec

__all__ = ["decode_field", "encode_field", "json_number"]

POSITIVE = "{ABCDEFGHI"
NEGATIVE = "}JKLMNOPQR"
SAFE_INTEGER = 2**53


def json_number(value: Decimal) -> int | float | str:
    """The exact JSON form of a decimal value."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        number = int(value)
        return number if abs(number) <= SAFE_INTEGER else str(number)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value.normalize())


def decode_field(raw: bytes, spec: FieldSpec, encoding: str) -> Any:
    if spec.type == "packed":
        return json_number(_unpack(raw).scaleb(-spec.scale))
    if spec.type == "binary":
        integer = int.from_bytes(raw, "big", signed=spec.signed)
        return json_number(Decimal(integer).scaleb(-spec.scale))
    text = raw.decode(encoding)
    if spec.type == "text":
        return _trim(text, spec)
    if not text.strip(" \x00"):
        return None
    if spec.type == "date":
        blank = not text.strip(" 0")
        return None if blank else datetime.strptime(text, spec.format).date().isoformat()
    number = _unzone(text.strip()) if spec.type == "zoned" else Decimal(int(text.strip()))
    return json_number(number.scaleb(-spec.scale))


def _trim(text: str, spec: FieldSpec) -> str:
    pad = spec.pad or " "
    return {"right": text.rstrip, "left": text.lstrip, "both": text.strip}.get(
        spec.trim, lambda _: text
    )(pad)


def _unzone(text: str) -> Decimal:
    last = text[-1]
    if last in POSITIVE:
        digits, sign = text[:-1] + str(POSITIVE.index(last)), 1
    elif last in NEGATIVE:
        digits, sign = text[:-1] + str(NEGATIVE.index(last)), -1
    else:
        digits, sign = text, 1
    if not digits.lstrip("+-").isdigit():
        raise ValueError(f"not a zoned decimal: {text!r}")
    return Decimal(sign * int(digits))


def _unpack(raw: bytes) -> Decimal:
    nibbles = "".join(f"{byte:02x}" for byte in raw)
    digits, sign = nibbles[:-1], nibbles[-1]
    if not digits.isdigit() or sign not in "cdf":
        raise ValueError(f"not a packed decimal: {raw.hex()}")
    return Decimal(int(digits) * (-1 if sign == "d" else 1))


def encode_field(value: Any, spec: FieldSpec, encoding: str) -> bytes:
    if spec.type == "text":
        return _fit_text("" if value is None else str(value), spec, encoding, "left", " ")
    if value is None or value == "":
        return (spec.pad or " ").encode(encoding) * spec.length
    if spec.type == "date":
        text = datetime.fromisoformat(str(value)).strftime(spec.format)
        return _fit_text(text, spec, encoding, "left", " ")
    number = _scaled(value, spec)
    if spec.type == "packed":
        return _pack(number, spec)
    if spec.type == "binary":
        try:
            return number.to_bytes(spec.length, "big", signed=spec.signed)
        except OverflowError as exc:
            raise ValueError(f"{value!r} does not fit in {spec.length} bytes") from exc
    if spec.type == "zoned":
        return _fit_text(_zone(number, spec), spec, encoding, "right", "0")
    zero_fill = (spec.pad or "0") == "0" and (spec.align or "right") == "right"
    text = f"{number:0{spec.length}d}" if zero_fill else str(number)
    return _fit_text(text, spec, encoding, "right", "0")


def _scaled(value: Any, spec: FieldSpec) -> int:
    try:
        number = Decimal(str(value)).scaleb(spec.scale)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if number != number.to_integral_value():
        raise ValueError(f"{value!r} has more than {spec.scale} decimals")
    if number < 0 and not spec.signed:
        raise ValueError(f"{value!r} is negative but the field is unsigned")
    return int(number)


def _zone(number: int, spec: FieldSpec) -> str:
    digits = str(abs(number)).rjust(spec.length, "0")
    if not spec.signed:
        return digits
    table = NEGATIVE if number < 0 else POSITIVE
    return digits[:-1] + table[int(digits[-1])]


def _pack(number: int, spec: FieldSpec) -> bytes:
    digits = str(abs(number)).rjust(spec.length * 2 - 1, "0")
    if len(digits) > spec.length * 2 - 1:
        raise ValueError(f"{number} needs more than {spec.length} bytes")
    sign = "d" if number < 0 else "c" if spec.signed else "f"
    return bytes.fromhex(digits + sign)


def _fit_text(text: str, spec: FieldSpec, encoding: str, align: str, pad: str) -> bytes:
    pad = spec.pad or pad
    data = text.encode(encoding)
    filler = pad.encode(encoding) * (spec.length - len(data))
    if len(data) > spec.length:
        raise ValueError(f"{text!r} is longer than {spec.length} bytes")
    return filler + data if (spec.align or align) == "right" else data + filler
