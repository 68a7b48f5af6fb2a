"""Hand-picked inputs that break parsers: each a name, the body bytes and a content type.

They are built from one valid value (``sample``) encoded in the flow's input format, so
that each case differs from a good message in one way only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["Edge", "edge_cases"]

Edge = tuple[str, bytes, str]
Encode = Callable[[Any], bytes]

_HUGE = "\x00huge\x00"
_MB = 1_000_000
_DEPTH = 10_000


def edge_cases(sample: Any, encode: Encode, content_type: str, json_input: bool) -> list[Edge]:
    """Every edge case for a flow whose input is ``content_type``, encoded by ``encode``."""
    good = encode(sample)
    cases: list[Edge] = [
        ("empty body", b"", content_type),
        ("wrong content type", good, "image/png"),
        ("no content type", good, ""),
        ("invalid UTF-8", b"\xff\xfe" + good + b"\xc3\x28", content_type),
        ("UTF-8 BOM", b"\xef\xbb\xbf" + good, content_type),
        ("NUL bytes", good.replace(b"A1", b"A\x001"), content_type),
        ("1 MB of text", b"x" * _MB, content_type),
    ]
    for name, value in _variants(sample):
        try:
            cases.append((name, encode(value), content_type))
        except Exception:  # a variant the format cannot express is skipped
            continue
    cases += _json_only(sample) if json_input else _xml_only()
    return cases


def _variants(sample: Any) -> Iterator[tuple[str, Any]]:
    yield "huge integers (2**70)", _replace_numbers(sample, 2**70)
    yield "negative numbers", _replace_numbers(sample, -1)
    yield "very long strings (1 MB)", _replace_strings(sample, "x" * _MB)
    yield "unicode strings", _replace_strings(sample, "é\u202e\U0001f600\ud7ff")
    yield "unexpected array at the top", [sample]
    yield "empty array at the top", []
    yield "a bare string", "A1"
    yield "null at the top", None
    yield "empty object", {}
    for path, parent, key in _fields(sample, ""):
        yield f"missing {path}", _without(sample, parent, key, delete=True)
        yield f"null {path}", _without(sample, parent, key, delete=False)


def _json_only(sample: Any) -> list[Edge]:
    text = json.dumps(_replace_numbers(sample, _HUGE))
    kind = "application/json"
    return [
        ("huge number (1e400)", text.replace(json.dumps(_HUGE), "1e400").encode(), kind),
        ("NaN and Infinity", text.replace(json.dumps(_HUGE), "NaN").encode(), kind),
        ("deep nesting (arrays)", b"[" * _DEPTH + b"]" * _DEPTH, kind),
        ("deep nesting (objects)", b'{"a":' * _DEPTH + b"1" + b"}" * _DEPTH, kind),
        ("duplicate keys", _duplicate_keys(sample), kind),
        ("lone surrogate", b'{"orderId": "\\ud800"}', kind),
        ("trailing garbage", json.dumps(sample).encode() + b" }", kind),
    ]


def _xml_only() -> list[Edge]:
    kind = "application/xml"
    return [
        ("deep nesting (elements)", b"<a>" * _DEPTH + b"</a>" * _DEPTH, kind),
        ("internal entity", b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', kind),
        (
            "external entity",
            b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
            kind,
        ),
        ("huge number", b"<a><n>1e400</n><m>" + str(2**70).encode() + b"</m></a>", kind),
        ("two roots", b"<a/><b/>", kind),
    ]


def _duplicate_keys(sample: Any) -> bytes:
    if not isinstance(sample, dict) or not sample:
        return b'{"a": 1, "a": 2}'
    first = next(iter(sample))
    return (json.dumps({first: None})[:-1] + ", " + json.dumps(sample)[1:]).encode()


def _fields(value: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield f"{path}/{key}", value, key
            yield from _fields(child, f"{path}/{key}")
    elif isinstance(value, list) and value:
        yield from _fields(value[0], f"{path}/0")


def _without(sample: Any, parent: Any, key: Any, *, delete: bool) -> Any:
    """A deep copy of ``sample`` with ``parent[key]`` removed (or set to null)."""
    if sample is parent:
        copy = dict(sample)
        if delete:
            del copy[key]
        else:
            copy[key] = None
        return copy
    if isinstance(sample, dict):
        return {k: _without(v, parent, key, delete=delete) for k, v in sample.items()}
    if isinstance(sample, list):
        return [_without(v, parent, key, delete=delete) for v in sample]
    return sample


def _replace_numbers(value: Any, new: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return new
    if isinstance(value, dict):
        return {key: _replace_numbers(child, new) for key, child in value.items()}
    if isinstance(value, list):
        return [_replace_numbers(child, new) for child in value]
    return value


def _replace_strings(value: Any, new: str) -> Any:
    if isinstance(value, str):
        return new
    if isinstance(value, dict):
        return {key: _replace_strings(child, new) for key, child in value.items()}
    if isinstance(value, list):
        return [_replace_strings(child, new) for child in value]
    return value
