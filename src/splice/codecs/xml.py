"""The ``xml`` codec: XML documents to JSON-like data and back, hardened against attacks.

Parsing never expands an entity, never loads a DTD, never touches the network or a file
and never processes XInclude. A ``<!DOCTYPE`` is refused unless ``allow_dtd: true``, which
admits an internal subset of element and attribute declarations but never an ``<!ENTITY``
declaration nor an external DTD. The mapping between XML and data is the convention of
:mod:`splice.codecs.xmljson`.

Records stream both ways in constant memory: ``write_records`` writes what ``encode`` writes
for their list (``<root><item>…</item>…</root>``) one record at a time, and ``iter_decode``
yields the value of each child element of the root, whatever its name, as the document is
parsed (the root's own attributes and text are not records; ``max_bytes`` then bounds one
record rather than the document).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, ClassVar, Literal

from lxml import etree  # type: ignore[import-untyped]
from pydantic import Field

from splice.codecs._xml_writer import RecordWriter, lxml_encoding
from splice.codecs.base import DEFAULT_MAX_BYTES, Codec, check_size
from splice.codecs.xmljson import element_to_value, value_to_element, value_to_text
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import CodecError

__all__ = ["SPEC", "XmlCodec", "XmlOptions", "safe_parser"]

_NO_DTD = "XML with a DOCTYPE is refused (set allow_dtd: true to accept one)"
_NO_ENTITIES = "XML declaring entities is refused (<!ENTITY> is never allowed)"
_PROLOG_END = re.compile(rb"<[^?!]")
_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")
_DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"
_LIBXML_MAX_DEPTH = 256
"""libxml2 refuses deeper documents itself unless huge_tree is on (it never is)."""
_CHUNK = 1 << 16
_PROLOG_LIMIT = 1 << 20


class XmlOptions(ComponentConfig):
    allow_dtd: bool = Field(
        False,
        description="Accept an internal DTD subset (element/attribute declarations only; "
        "entity declarations and external DTDs are always refused).",
    )
    max_bytes: int = Field(
        DEFAULT_MAX_BYTES,
        ge=1,
        description="Refuse documents larger than this many bytes (streamed records: a record).",
    )
    max_depth: int = Field(
        _LIBXML_MAX_DEPTH,
        ge=1,
        le=_LIBXML_MAX_DEPTH,
        description="Refuse documents with elements nested deeper than this.",
    )
    root: str = Field(
        "root", description="Encode: root element wrapping data that is not a one-key object."
    )
    item: str = Field("item", description="Encode: element name of the items of a bare array.")
    pretty: bool = Field(False, description="Encode: indent the output.")
    declaration: bool = Field(True, description="Encode: start with an XML declaration.")
    encoding: Literal["utf-8", "utf-16", "iso-8859-1", "latin-1", "cp1252", "ascii"] = Field(
        "utf-8", description="Encode: character encoding of the output."
    )


SPEC = ComponentSpec(
    kind="codec",
    name="xml",
    summary="XML documents ↔ data (@attributes, #text, arrays); DTDs and entities refused.",
    config=XmlOptions,
    example="encode: {format: xml, options: {root: order, pretty: true}}",
    factory="splice.codecs.xml:XmlCodec",
    description="See docs/guides/codecs.md for the JSON ↔ XML convention.",
)


_SAFE = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def safe_parser() -> etree.XMLParser:
    """An lxml parser that resolves nothing and fetches nothing."""
    return etree.XMLParser(**_SAFE)


class XmlCodec(Codec):
    name = "xml"
    content_type = "application/xml"
    supports_records = True
    records_keep_document: ClassVar[bool] = False

    def __init__(self, options: XmlOptions | None = None, context: Any = None) -> None:
        self.options = options or XmlOptions()

    def decode(self, data: bytes) -> Any:
        root = self.parse(data)
        name = _root_name(root)
        return {name: element_to_value(root, self.options.max_depth)}

    def parse(self, data: bytes) -> etree._Element:
        """The root element of a document that passed every safety check."""
        check_size(data, self.options.max_bytes, "XML")
        self._check_prolog(bytes(data))
        try:
            tree = etree.fromstring(bytes(data), safe_parser()).getroottree()
        except etree.XMLSyntaxError as error:
            raise _syntax_error(error) from error
        self._check_dtd(tree)
        return tree.getroot()

    def iter_decode(self, stream: BinaryIO) -> Iterator[Any]:
        """The values of the root's children, one at a time, as the document is parsed."""
        parser = etree.XMLPullParser(events=("end",), **_SAFE)
        data = self._read_prolog(stream)
        since_record, checked = 0, False
        while True:
            _feed(parser, data)
            since_record += len(data)
            for _event, element in parser.read_events():
                if not checked:
                    self._check_dtd(element.getroottree())
                    checked = True
                root = element.getparent()
                if root is not None and root.getparent() is None:
                    yield self._record(element, root)
                    since_record = 0
            if since_record > self.options.max_bytes:
                raise CodecError(f"XML record larger than max_bytes ({self.options.max_bytes})")
            if not data:
                return
            data = stream.read(_CHUNK)

    def _read_prolog(self, stream: BinaryIO) -> bytes:
        """The start of a stream, up to the root element, checked for a DOCTYPE."""
        head = b""
        while len(head) < _PROLOG_LIMIT and not _PROLOG_END.search(head):
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            head += chunk
        self._check_prolog(head)
        return head

    def _record(self, element: etree._Element, root: etree._Element) -> Any:
        """One child of the root as data, then dropped (with the ones before it)."""
        value = element_to_value(element, self.options.max_depth, depth=2)
        if root.nsmap and isinstance(value, dict):
            declared = {"@xmlns:" + p if p else "@xmlns": uri for p, uri in root.nsmap.items()}
            value = {**declared, **value}
        element.clear()
        while element.getprevious() is not None:
            del root[0]
        return value

    def _check_prolog(self, data: bytes) -> None:
        """Refuse a DOCTYPE (or entities) before libxml2 sees them."""
        prolog = _PROLOG_END.split(data, maxsplit=1)[0]
        if b"<!DOCTYPE" not in prolog:
            return
        if not self.options.allow_dtd:
            raise CodecError(_NO_DTD, position=_place(data, data.index(b"<!DOCTYPE")))
        if (entity := data.find(b"<!ENTITY")) >= 0:
            raise CodecError(_NO_ENTITIES, position=_place(data, entity))

    def _check_dtd(self, tree: etree._ElementTree) -> None:
        info = tree.docinfo
        dtd = info.internalDTD
        if not info.doctype and dtd is None:
            return
        if not self.options.allow_dtd:
            raise CodecError(_NO_DTD)
        if info.public_id or info.system_url:
            raise CodecError("XML referring to an external DTD is refused")
        if dtd is not None and any(True for _ in dtd.iterentities()):
            raise CodecError(_NO_ENTITIES)

    def encode(self, value: Any) -> bytes:
        options = self.options
        if not options.pretty and options.encoding == "utf-8":
            text = value_to_text(*self._root(value), item=options.item)
            if text is not None:
                return (_DECLARATION if options.declaration else b"") + text.encode()
        root = self.element(value)
        if options.pretty:
            etree.indent(root)
        body: bytes = etree.tostring(
            root,
            encoding=lxml_encoding(options.encoding),
            xml_declaration=options.declaration,
            pretty_print=options.pretty,
        )
        return body

    def write_records(self, records: Iterable[Any], out: BinaryIO) -> None:
        """What ``encode`` writes for the list of records (and a newline), one at a time."""
        options = self.options
        writer = RecordWriter(
            options.root,
            options.item,
            pretty=options.pretty,
            declaration=options.declaration,
            encoding=options.encoding,
        )
        writer.write(records, out)

    def element(self, value: Any) -> etree._Element:
        """The root element for data, following the convention (CodecError naming the path)."""
        return value_to_element(*self._root(value), item=self.options.item)

    def _root(self, value: Any) -> tuple[str, Any]:
        """The root element's name and what it holds."""
        item = self.options.item
        if isinstance(value, dict) and len(value) == 1:
            ((name, inner),) = value.items()
            if isinstance(name, str) and not name.startswith(("@", "#")):
                if isinstance(inner, list):
                    inner = {item: inner}
                return name, inner
        if isinstance(value, list):
            value = {item: value}
        return self.options.root, value


def _root_name(root: etree._Element) -> str:
    tag = str(root.tag)
    if not tag.startswith("{"):
        return tag
    local = tag.split("}", 1)[1]
    return f"{root.prefix}:{local}" if root.prefix else local


def _feed(parser: etree.XMLPullParser, data: bytes) -> None:
    """Parse more of a document (its end when ``data`` is empty)."""
    try:
        if data:
            parser.feed(data)
        else:
            parser.close()
    except etree.XMLSyntaxError as error:
        raise _syntax_error(error) from error


def _syntax_error(error: etree.XMLSyntaxError) -> CodecError:
    line, column = (max(1, place) for place in error.position)  # an empty stream says 0, 0
    reason = _POSITION_SUFFIX.sub("", str(error.msg))
    return CodecError(f"not well-formed XML: {reason}", position=f"line {line}, column {column}")


def _place(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - data.rfind(b"\n", 0, offset)
    return f"line {line}, column {column}"
