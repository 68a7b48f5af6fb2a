"""The xml codec: decode/encode per the convention, options, errors naming the place."""

from __future__ import annotations

import pytest

from splice.codecs import codec_for_content_type, get_codec
from splice.codecs.xml import XmlCodec, XmlOptions
from splice.errors import CodecError

codec = XmlCodec()
DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"


def test_one_key_object_is_the_root_and_numbers_keep_their_form() -> None:
    value = {"order": {"@id": "A-1", "total": 19.99, "tax": 21.0, "qty": 3, "paid": True}}
    assert codec.encode(value) == DECLARATION + (
        b'<order id="A-1"><total>19.99</total><tax>21.0</tax><qty>3</qty><paid>true</paid></order>'
    )


def test_other_data_is_wrapped_in_the_root_option() -> None:
    assert codec.encode({"a": 1, "b": None}) == DECLARATION + b"<root><a>1</a><b/></root>"
    named = XmlCodec(XmlOptions(root="batch", item="row", declaration=False))
    assert named.encode([1, "x"]) == b"<batch><row>1</row><row>x</row></batch>"


def test_arrays_become_repeated_elements() -> None:
    value = {"order": {"line": [{"sku": "a"}, {"sku": "b"}]}}
    encoded = codec.encode(value)
    assert encoded.endswith(b"<order><line><sku>a</sku></line><line><sku>b</sku></line></order>")
    assert codec.decode(encoded) == value


def test_a_root_holding_an_array_writes_items() -> None:
    assert codec.encode({"orders": [1, 2]}).endswith(
        b"<orders><item>1</item><item>2</item></orders>"
    )


def test_decoded_values_are_strings_never_guessed_numbers() -> None:
    assert codec.decode(b"<a><n>007</n><t>true</t></a>") == {"a": {"n": "007", "t": "true"}}


def test_pretty_and_no_declaration() -> None:
    pretty = XmlCodec(XmlOptions(pretty=True, declaration=False))
    assert pretty.encode({"a": {"b": "1"}}) == b"<a>\n  <b>1</b>\n</a>\n"


def test_other_encodings() -> None:
    latin = XmlCodec(XmlOptions(encoding="iso-8859-1", declaration=True))
    encoded = latin.encode({"a": "é"})
    assert b"\xe9" in encoded
    assert codec.decode(encoded) == {"a": "é"}


def test_syntax_errors_name_line_and_column() -> None:
    with pytest.raises(CodecError, match=r"tag mismatch.*\(at line 2, column 8\)$"):
        codec.decode(b"<a>\n<b></a>")


def test_not_xml_at_all() -> None:
    with pytest.raises(CodecError, match="not well-formed XML"):
        codec.decode(b'{"a": 1}')


def test_max_bytes_and_max_depth() -> None:
    with pytest.raises(CodecError, match="max_bytes"):
        XmlCodec(XmlOptions(max_bytes=5)).decode(b"<a>long</a>")
    with pytest.raises(CodecError, match="max_depth"):
        XmlCodec(XmlOptions(max_depth=2)).decode(b"<a><b><c/></b></a>")


def test_libxml_depth_limit_is_a_codec_error() -> None:
    deep = b"<a>" * 300 + b"</a>" * 300
    with pytest.raises(CodecError):
        codec.decode(deep)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"1a": 1}, "1a"),
        ({"a": {"b c": 1}}, "a.b c"),
        ({"a": {"@x y": 1}}, "a.@x y"),
        ({"a": {"list": [1, {"bad name": 2}]}}, "a.list[1].bad name"),
        ({"p:a": 1}, "p:a"),
        ({"a": "\x00"}, "a"),
        ({"a": {"b": object()}}, "a.b"),
    ],
)
def test_values_that_cannot_be_xml_name_their_key_path(value: object, path: str) -> None:
    with pytest.raises(CodecError) as caught:
        codec.encode(value)
    assert caught.value.position == path


@pytest.mark.parametrize(
    "content_type", ["application/xml", "text/xml; charset=utf-8", "application/soap+xml"]
)
def test_xml_content_types(content_type: str) -> None:
    assert isinstance(codec_for_content_type(content_type), XmlCodec)


def test_options_by_name() -> None:
    built = get_codec("xml", {"root": "orders", "pretty": True})
    assert isinstance(built, XmlCodec)
    assert built.options.root == "orders"
