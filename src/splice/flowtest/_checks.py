"""The checks one expected message may name (``text``, ``xml``, ``json``, ``where``, ...).

Each takes the wanted value, the message a sink received and the project folder, and
returns None when the check holds, else what differs (a unified diff for text, XML, JSON).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from numbers import Number
from pathlib import Path
from typing import Any

import orjson
from lxml import etree  # type: ignore[import-untyped]

from splice.codecs import codec_for_content_type
from splice.errors import SpliceError
from splice.message import Message

__all__ = ["CHECKS", "decoded", "diff", "pretty_json", "pretty_xml", "text_of"]

Check = Callable[[Any, Message, Path], "str | None"]

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True
)


def decoded(message: Message) -> Any:
    """The body as data: decoded by the codec of its content type when it is still bytes."""
    if not message.is_encoded:
        return message.body
    codec = codec_for_content_type(message.content_type)
    if codec is None:
        return message.body_bytes().decode("utf-8", "replace")
    try:
        return codec.decode(message.body_bytes())
    except SpliceError as error:
        raise ValueError(f"the body does not decode as {message.content_type}: {error}") from None


def text_of(message: Message) -> str:
    if message.is_encoded:
        return message.body_bytes().decode("utf-8", "replace")
    return orjson.dumps(message.body, option=orjson.OPT_INDENT_2).decode()


def diff(expected: str, actual: str) -> str:
    """A unified diff, expected first."""
    lines = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "expected", "actual", lineterm=""
    )
    return "\n".join(lines)


def pretty_json(value: Any) -> str:
    options = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    return orjson.dumps(value, option=options, default=str).decode()


def pretty_xml(text: str) -> str:
    """Canonical, indented XML (attribute order, blank text and declaration normalised)."""
    root = etree.fromstring(text.strip().encode(), _PARSER)
    canonical = etree.canonicalize(root, strip_text=True)
    pretty: bytes = etree.tostring(etree.fromstring(canonical.encode(), _PARSER), pretty_print=True)
    return pretty.decode()


def _text(wanted: str, message: Message, project_dir: Path) -> str | None:
    actual = text_of(message)
    if actual == wanted:
        return None
    if "\n" not in wanted.strip() and "\n" not in actual.strip():
        return f"expected {wanted!r}, got {actual!r}"
    return "text differs\n" + diff(wanted, actual)


def _xml(wanted: str, message: Message, project_dir: Path) -> str | None:
    try:
        expected = pretty_xml(wanted)
    except etree.XMLSyntaxError as error:
        return f"the expected XML is not well-formed: {error}"
    actual_text = text_of(message)
    try:
        actual = pretty_xml(actual_text)
    except etree.XMLSyntaxError as error:
        return f"the body is not well-formed XML ({error}):\n{actual_text[:500]}"
    return None if expected == actual else "XML differs\n" + diff(expected, actual)


def _json(wanted: Any, message: Message, project_dir: Path) -> str | None:
    try:
        actual = decoded(message)
    except ValueError as error:
        return str(error)
    if _same(wanted, actual):
        return None
    return "data differs\n" + diff(pretty_json(wanted), pretty_json(actual))


def _same(left: Any, right: Any) -> bool:
    """Equal as JSON data: 1 == 1.0, but True is not 1."""
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, Number) and isinstance(right, Number):
        return bool(left == right)
    return type(left) is type(right) and bool(left == right)


def _where(wanted: str, message: Message, project_dir: Path) -> str | None:
    from splice.mapping import compile_mapping

    try:
        result = compile_mapping(wanted).evaluate(decoded(message))
    except (SpliceError, ValueError) as error:
        return f"{wanted!r} failed: {error}"
    if result is True:
        return None
    return f"{wanted!r} is {pretty_json(result) if result is not None else 'undefined'}"


def _schema(wanted: str, message: Message, project_dir: Path) -> str | None:
    from jsonschema import Draft202012Validator

    schema = orjson.loads((project_dir / wanted).read_bytes())
    try:
        errors = list(Draft202012Validator(schema).iter_errors(decoded(message)))
    except ValueError as error:
        return str(error)
    if not errors:
        return None
    listing = "; ".join(f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)
    return f"does not satisfy {wanted}: {listing}"


def _headers(wanted: dict[str, str], message: Message, project_dir: Path) -> str | None:
    wrong = {key: message.headers.get(key) for key, value in wanted.items()}
    wrong = {key: value for key, value in wrong.items() if value != wanted[key]}
    if not wrong:
        return None
    return "; ".join(f"{key}: expected {wanted[key]!r}, got {got!r}" for key, got in wrong.items())


def _content_type(wanted: str, message: Message, project_dir: Path) -> str | None:
    if message.content_type == wanted:
        return None
    return f"expected {wanted!r}, got {message.content_type!r}"


CHECKS: dict[str, Check] = {
    "text": _text,
    "xml": _xml,
    "json_": _json,
    "where": _where,
    "schema_": _schema,
    "headers": _headers,
    "content_type": _content_type,
}
