"""Writing XML records incrementally: one element per record under a root element.

:class:`RecordWriter` writes exactly what ``XmlCodec.encode(list(records))`` writes
(``<root><item>…</item>…</root>`` with the declaration, ``pretty`` and ``encoding``
options) without ever holding more than one record: each record becomes its element
through :func:`~splice.codecs.xmljson.value_to_element`, or, for the common case of an
object whose values are plain text (a CSV row), through a template that lxml itself
produced for that set of keys, so the two paths give the same bytes.
"""

from __future__ import annotations

import codecs
import itertools
import re
from collections.abc import Iterable
from typing import Any, BinaryIO

from lxml import etree  # type: ignore[import-untyped]

from splice.codecs.xmljson import value_to_element, value_to_text
from splice.errors import CodecError

__all__ = ["RecordWriter", "lxml_encoding"]

_BATCH = 1024
_TEXT_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters lxml escapes in text, or refuses."""
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters lxml refuses in text: a record holding one takes the general path (its error)."""
_EMPTY = re.compile(r"<([^<>/\s]+)></\1>")
"""An element holding an empty text."""
_TEMPLATE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_TOKEN = "\ue000{}\ue001"
_MAX_TEMPLATES = 256
_NOTHING = object()


def lxml_encoding(encoding: str) -> str:
    """The name libxml2 knows an encoding by (it has no ``latin-1`` alias)."""
    return "iso-8859-1" if encoding == "latin-1" else encoding


class RecordWriter:
    """Writes records as the items of one document, a batch of records at a time."""

    def __init__(self, root: str, item: str, *, pretty: bool, declaration: bool, encoding: str):
        value_to_element(root, None)  # CodecError now when the root name is not valid XML
        self.root, self.item, self.pretty = root, item, pretty
        self.head = _declaration(encoding) if declaration else ""
        self.separator = "\n  " if pretty else ""
        self.encoder = codecs.getincrementalencoder(encoding)("xmlcharrefreplace")
        self.templates: dict[tuple[str, ...], str | None] = {}
        self.collapse_empty = "<a/>" in self._element({"a": ""}, 0)
        """Whether the convention writes an empty text as ``<a/>`` (else ``<a></a>``)."""

    def write(self, records: Iterable[Any], out: BinaryIO) -> None:
        items = iter(records)
        first = next(items, _NOTHING)
        if first is _NOTHING:
            out.write(self.encoder.encode(f"{self.head}<{self.root}/>\n", final=True))
            return
        render, encode = self.record, self.encoder.encode
        out.write(encode(f"{self.head}<{self.root}>{render(first, 0)}"))
        index = 1
        while batch := list(itertools.islice(items, _BATCH)):
            out.write(encode("".join([render(r, i) for i, r in enumerate(batch, index)])))
            index += len(batch)
        out.write(encode(f"\n</{self.root}>\n" if self.pretty else f"</{self.root}>\n", True))

    def record(self, record: Any, index: int) -> str:
        """One record's element as text, after the separator that precedes it."""
        if type(record) is dict:
            template = self.templates.get(keys := tuple(record), "")
            if template == "":
                template = self._template(keys)
            if template is not None:
                values = tuple(record.values())
                try:
                    text = "".join(values)
                except TypeError:
                    return self._element(record, index)  # not all text
                if _TEXT_SPECIAL.search(text) is None:
                    element = template % values
                elif _INVALID.search(text) is None:
                    element = template % tuple(map(_escape, values))
                else:
                    return self._element(record, index)
                if self.collapse_empty and "" in values:
                    # escaped values hold no '<': an empty pair can only be an empty value
                    return _EMPTY.sub(r"<\1/>", element)
                return element
        return self._element(record, index)

    def _element(self, record: Any, index: int) -> str:
        if not self.pretty and (plain := value_to_text(self.item, record, item=self.item)):
            return plain
        try:
            element = value_to_element(self.item, record, item=self.item)
        except CodecError as error:
            where = f"{self.root}.{self.item}[{index}]"
            position = error.position or self.item
            message = error.message.removesuffix(f" (at {position})")
            raise CodecError(message, position=position.replace(self.item, where, 1)) from error
        if self.pretty:
            etree.indent(element, level=1)
        text: str = etree.tostring(element, encoding="unicode")
        return self.separator + text

    def _template(self, keys: tuple[str, ...]) -> str | None:
        """Text with ``%s`` where each value goes, made by lxml; None if keys need the slow path."""
        template = None
        if all(isinstance(key, str) and _TEMPLATE_KEY.fullmatch(key) for key in keys):
            tokens = [_TOKEN.format(n) for n in range(len(keys))]
            try:
                text = self._element(dict(zip(keys, tokens, strict=True)), 0)
            except CodecError:
                text = ""
            text = text.replace("%", "%%")
            for token in tokens:
                text = text.replace(token, "%s", 1)
            template = text if text and "\ue000" not in text else None
        if len(self.templates) < _MAX_TEMPLATES:
            self.templates[keys] = template
        return template


def _declaration(encoding: str) -> str:
    body: bytes = etree.tostring(
        etree.Element("r"), encoding=lxml_encoding(encoding), xml_declaration=True
    )
    return body.decode(encoding).lstrip("\ufeff").rpartition("<r/>")[0]


def _escape(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )
