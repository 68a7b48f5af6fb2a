"""The JSON ↔ XML convention: every rule, and XML → JSON → XML round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from splice.codecs import xmljson
from splice.codecs.xml import XmlCodec, XmlOptions
from splice.errors import CodecError

codec = XmlCodec(XmlOptions(declaration=False))


def _same(a: bytes, b: bytes) -> bool:
    parser = etree.XMLParser(remove_blank_text=True)
    return bool(
        etree.tostring(etree.fromstring(a, parser), method="c14n")
        == etree.tostring(etree.fromstring(b, parser), method="c14n")
    )


@pytest.mark.parametrize(
    ("xml", "data"),
    [
        (b"<a>text</a>", {"a": "text"}),
        (b"<a/>", {"a": None}),
        (b'<a id="1"/>', {"a": {"@id": "1"}}),
        (b'<a id="1">text</a>', {"a": {"@id": "1", "#text": "text"}}),
        (b"<a><b>1</b><b>2</b><c/></a>", {"a": {"b": ["1", "2"], "c": None}}),
        (b"<a>\n  <b>1</b>\n</a>", {"a": {"b": "1"}}),
        (b"<a><![CDATA[x < y]]></a>", {"a": "x < y"}),
        (b"<!-- c --><a><?pi x?><b>1</b><!-- c --></a>", {"a": {"b": "1"}}),
    ],
)
def test_decoding_rules(xml: bytes, data: object) -> None:
    assert codec.decode(xml) == data


def test_mixed_text_is_gathered_in_text() -> None:
    assert codec.decode(b"<p>Hello <b>you</b> there</p>") == {
        "p": {"b": "you", "#text": "Hello there"}
    }


def test_namespaces_keep_prefixes_and_declarations() -> None:
    xml = (
        b'<s:Envelope xmlns:s="urn:s" xmlns="urn:d"><s:Body><Order s:must="1" xml:lang="en">'
        b'<m:x xmlns:m="urn:m">1</m:x></Order></s:Body></s:Envelope>'
    )
    data = codec.decode(xml)
    assert data == {
        "s:Envelope": {
            "@xmlns:s": "urn:s",
            "@xmlns": "urn:d",
            "s:Body": {
                "Order": {
                    "@s:must": "1",
                    "@xml:lang": "en",
                    "m:x": {"@xmlns:m": "urn:m", "#text": "1"},
                }
            },
        }
    }
    assert codec.encode(data) == xml


ROUND_TRIPS = [
    b'<order id="A-1"><total>19.99</total><line><sku>a</sku></line><line><sku>b</sku></line>'
    b"</order>",
    b'<root xmlns="urn:namespace">\n  <element key="value">text</element>\n'
    b"  <empty-element/>\n</root>",
    b'<a:r xmlns:a="urn:a" xmlns:b="urn:b"><b:x b:y="1"/><b:x>2</b:x><a:z>t</a:z></a:r>',
    b"<list><item/><item>x</item><item><n>1</n></item></list>",
    b'<a x="&lt;&amp;&quot;">&lt;tag&gt; &amp; more</a>',
]


@pytest.mark.parametrize("xml", ROUND_TRIPS)
def test_xml_to_json_to_xml_is_identical(xml: bytes) -> None:
    assert _same(codec.encode(codec.decode(xml)), xml)


@pytest.mark.parametrize(
    "data",
    [
        {"order": {"@id": "A-1", "total": "19.99", "line": [{"sku": "a"}, {"sku": "b"}]}},
        {"a": {"@xmlns": "urn:a", "b": [None, "x"]}},
        {"a": {"@k": "v", "#text": "t"}},
    ],
)
def test_json_to_xml_to_json_is_identical(data: object) -> None:
    assert codec.decode(codec.encode(data)) == data


def test_interleaved_siblings_are_grouped_by_name() -> None:
    data = codec.decode(b"<r><x>1</x><z>t</z><x>2</x></r>")
    assert data == {"r": {"x": ["1", "2"], "z": "t"}}
    assert codec.encode(data) == b"<r><x>1</x><x>2</x><z>t</z></r>"


# -- the fast writer (plain data, no namespaces) gives exactly what the full writer gives --

_good_names = st.sampled_from(["a", "b", "Line", "x-y", "_z", "é"])
_names = _good_names | _good_names | st.sampled_from(["1a", "a b", 'a="1" b', "", "#x"])
_texts = st.text(st.sampled_from("aé&<>\"'\n\r\t ]\x7f\x85\u2028\U0001f600"), max_size=6) | st.text(
    st.sampled_from("a\x00\x01\ufffe\ud800"), min_size=1, max_size=2
)
_scalars = (
    _texts
    | st.integers()
    | st.floats()
    | st.booleans()
    | st.none()
    | st.decimals(allow_nan=False, places=2)
)
_keys = _names | _names.map(lambda name: "@" + name) | st.just("#text") | st.just("@xmlns")


class _Sequence(list[object]):
    """A list subclass, as a mapping engine may return."""


def _values(leaves: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    lists = st.lists(leaves, max_size=3)
    objects = st.dictionaries(_keys, leaves | lists.map(_Sequence), max_size=4)
    return objects | objects | lists | lists.map(_Sequence) | lists.map(tuple)


@settings(max_examples=400, deadline=None)
@given(name=_names, value=st.recursive(_scalars, _values, max_leaves=12))
def test_the_fast_writer_matches_the_full_writer(name: str, value: object) -> None:
    def full() -> bytes:
        return bytes(etree.tostring(xmljson._Writer("item").build(None, name, value, {}, name)))

    try:
        expected: bytes | CodecError = full()
    except CodecError as error:
        expected = error
    if isinstance(expected, CodecError):
        with pytest.raises(CodecError) as raised:
            xmljson.value_to_element(name, value)
        assert (raised.value.message, raised.value.position) == (
            expected.message,
            expected.position,
        )
    else:
        assert etree.tostring(xmljson.value_to_element(name, value)) == expected
        text = xmljson.value_to_text(name, value)
        full = xmljson._Writer("item").build(None, name, value, {}, name)
        assert text is None or text.encode() == etree.tostring(full, encoding="utf-8")


def test_the_fast_writer_escapes_like_lxml() -> None:
    value = {"@a": "<&>\"'\n\r\t", "#text": "<&>\"'\n\r\t]]>", "c": None, "d": [1, 2.0, True]}
    text = xmljson.value_to_text("x", value)
    full = xmljson._Writer("item").build(None, "x", value, {}, "x")

    assert text is not None
    assert text.encode() == etree.tostring(full)
    assert text == (
        '<x a="&lt;&amp;&gt;&quot;\'&#10;&#13;&#9;">&lt;&amp;&gt;"\'\n&#13;\t]]&gt;'
        "<c/><d>1</d><d>2.0</d><d>true</d></x>"
    )


def test_data_the_fast_writer_does_not_cover_is_left_to_the_full_writer() -> None:
    assert xmljson.value_to_text("x", {"@xmlns": "urn:a", "b": 1}) is None
    assert xmljson.value_to_text("x", {"b": "\x00"}) is None
    assert xmljson.value_to_text("x", {"b": ""}) is None  # libxml2 reads <b></b> as <b/>
    assert xmljson.value_to_text("x", {"b c": 1}) is None


@settings(max_examples=300, deadline=None)
@given(
    value=st.recursive(_scalars, _values, max_leaves=12),
    declaration=st.booleans(),
)
def test_the_codec_writes_plain_data_as_lxml_would(value: object, declaration: bool) -> None:
    codec = XmlCodec(XmlOptions(declaration=declaration))
    try:
        root = codec.element({"doc": value})
    except CodecError:
        return
    expected = etree.tostring(root, xml_declaration=declaration, encoding="utf-8")
    assert codec.encode({"doc": value}) == expected
