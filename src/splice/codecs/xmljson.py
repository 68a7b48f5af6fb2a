"""The JSON ↔ XML convention shared by the ``xml`` codec and the SOAP connector.

Decoding an element gives:

* a document → ``{"Root": value}`` (comments and processing instructions are dropped);
* an element with only text → that text as a string (``<total>19.99</total>`` →
  ``"19.99"``: values are never guessed into numbers);
* an empty element (no attributes, children or text) → ``null``;
* otherwise an object: attributes as ``"@name"``, children by name, text beside them as
  ``"#text"`` (whitespace-only text between children is insignificant and dropped);
* repeated siblings → an array, in document order;
* namespaces keep their prefixes: ``"ns:Name"`` and ``"@ns:attr"``, and each declaration
  stays where it was, as ``"@xmlns"`` or ``"@xmlns:ns"``.

Encoding is the reverse: an array becomes repeated elements of its key's name, a nested
array repeated ``item`` elements; ints are written with ``str``, floats with ``repr``
(``21.0`` stays ``21.0``), booleans as ``true``/``false``, ``None`` as an empty element. So
XML → JSON → XML gives the same document, up to insignificant whitespace, the XML
declaration, ``<a></a>`` written as ``<a/>`` and where text sat among children.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from splice.errors import CodecError

__all__ = ["element_to_value", "value_to_element", "value_to_text"]

XML_NS = "http://www.w3.org/XML/1998/namespace"
Scope = dict[str | None, str]


def _qualified(name: str, element: etree._Element, is_attribute: bool = False) -> str:
    if not name.startswith("{"):
        return name
    uri, local = name[1:].split("}", 1)
    if uri == XML_NS:
        return f"xml:{local}"
    prefixes = [p for p, u in element.nsmap.items() if u == uri and not (is_attribute and not p)]
    prefix = element.prefix if not is_attribute and element.prefix in prefixes else None
    if prefix is None and prefixes and (is_attribute or None not in prefixes):
        prefix = prefixes[0]
    return f"{prefix}:{local}" if prefix else local


def element_to_value(element: etree._Element, max_depth: int, depth: int = 1) -> Any:
    """The JSON value of one element (its name is the key its parent puts it under)."""
    if depth > max_depth:
        raise CodecError(f"XML is nested deeper than max_depth ({max_depth})")
    value: dict[str, Any] = {}
    parent = element.getparent()
    inherited = parent.nsmap if parent is not None else {}
    for prefix, uri in element.nsmap.items():
        if inherited.get(prefix) != uri:
            value["@xmlns:" + prefix if prefix else "@xmlns"] = uri
    for name, text in element.attrib.items():
        value["@" + _qualified(name, element, is_attribute=True)] = text
    texts = [element.text] if element.text else []
    for child in element:
        if child.tail:
            texts.append(child.tail)
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        key = _qualified(child.tag, child)
        item = element_to_value(child, max_depth, depth + 1)
        if key not in value:
            value[key] = item
        elif isinstance(existing := value[key], _Repeated):
            existing.append(item)
        else:
            value[key] = _Repeated([existing, item])
    text = "".join(texts)
    if not value:
        return text or None
    if text.strip():
        value["#text"] = " ".join(t.strip() for t in texts if t.strip())
    return {key: list(item) if isinstance(item, _Repeated) else item for key, item in value.items()}


class _Repeated(list[Any]):
    """Siblings of one name collected so far (a JSON array once done)."""


def value_to_element(
    name: str, value: Any, *, item: str = "item", scope: Scope | None = None
) -> etree._Element:
    """Build the element ``name`` holding ``value``; CodecError naming the key path.

    Arrays nested directly in arrays are written as repeated ``item`` elements.
    """
    if not scope and (text := value_to_text(name, value, item=item)) is not None:
        try:
            return etree.fromstring(text.encode(), _PARSER)
        except etree.LxmlError:
            pass  # e.g. nested deeper than libxml2 parses
    return _Writer(item).build(None, name, value, scope or {}, name)


def value_to_text(name: str, value: Any, *, item: str = "item") -> str | None:
    """The element ``name`` holding ``value`` as XML text, exactly as lxml would write it.

    ``None`` when the fast writer does not cover the data (namespaces, values that are no
    text, names or characters XML cannot hold): :func:`value_to_element` then builds it, or
    raises the error naming the key path.
    """
    parts: list[str] = []
    try:
        _write_plain(parts, name, value, item)
    except (_NotPlain, ValueError, RecursionError):
        return None
    return "".join(parts)  # every text went through _escape_text or _escape_attribute


class _Writer:
    def __init__(self, item: str) -> None:
        self.item = item

    def build(
        self, parent: etree._Element | None, name: str, value: Any, scope: Scope, path: str
    ) -> etree._Element:
        declared: Scope = {}
        if isinstance(value, dict):
            for key, uri in value.items():
                if key == "@xmlns" or (isinstance(key, str) and key.startswith("@xmlns:")):
                    declared[key[7:] or None] = _scalar(uri, f"{path}.{key}")
        scope = {**scope, **declared} if declared else scope
        tag = _clark(name, scope, path, is_attribute=False)
        try:
            if parent is None:
                element = etree.Element(tag, nsmap=declared or None)
            else:
                element = etree.SubElement(parent, tag, nsmap=declared or None)
            if isinstance(value, dict):
                self.fill(element, value, scope, path)
            elif isinstance(value, list | tuple):
                for index, each in enumerate(value):
                    self.build(element, self.item, each, scope, f"{path}[{index}]")
            elif value is not None:
                element.text = _scalar(value, path)
        except ValueError as error:
            raise CodecError(f"cannot write XML: {error}", position=path) from error
        return element

    def fill(self, element: etree._Element, value: dict[Any, Any], scope: Scope, path: str) -> None:
        for key, item in value.items():
            if not isinstance(key, str):
                raise CodecError(f"cannot write XML: key {key!r} is not a string", position=path)
            where = f"{path}.{key}"
            if key == "@xmlns" or key.startswith("@xmlns:"):
                continue
            try:
                if key == "#text":
                    element.text = _scalar(item, where)
                elif key.startswith("@"):
                    attribute = _clark(key[1:], scope, where, is_attribute=True)
                    element.set(attribute, "" if item is None else _scalar(item, where))
                elif isinstance(item, list | tuple):
                    for index, each in enumerate(item):
                        self.build(element, key, each, scope, f"{where}[{index}]")
                else:
                    self.build(element, key, item, scope, where)
            except ValueError as error:
                raise CodecError(f"cannot write XML: {error}", position=where) from error


def _clark(name: str, scope: Scope, path: str, *, is_attribute: bool) -> str:
    prefix, colon, local = name.partition(":")
    if not colon:
        default = None if is_attribute else scope.get(None)
        return f"{{{default}}}{name}" if default else name
    uri = XML_NS if prefix == "xml" else scope.get(prefix)
    if uri is None:
        raise CodecError(
            f"cannot write XML: namespace prefix '{prefix}' is not declared"
            f" (add '@xmlns:{prefix}')",
            position=path,
        )
    return f"{{{uri}}}{local}"


def _scalar(value: Any, path: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    raise CodecError(
        f"cannot write XML: a {type(value).__name__} cannot be text or an attribute", position=path
    )


# -- the fast path: data without namespaces, written as text (and parsed by libxml2) ------
#
# Building an lxml tree costs about a microsecond per element; writing the same document as
# text costs a fraction of that, and letting libxml2 parse it back little more. The text is
# escaped exactly as lxml serialises, names are checked by lxml itself (once each), and
# anything unusual (namespaces, a value that is no text, a character XML cannot hold) is
# left to _Writer, which builds the same document or raises the error naming the key path.

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_NAMES: dict[str, bool] = {}
_SEQUENCES = (list, tuple)
_ROLES: dict[str, str] = {}
_MAX_NAMES = 4096
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""A character XML 1.0 cannot hold (lxml refuses it too)."""
_NOT_XML_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
"""The same characters as a class body: what ``_NOT_XML`` finds, TAB, LF and CR aside."""
_TEXT_SPECIAL = re.compile(f"[&<>\r{_NOT_XML_CHARS}]")
_ATTRIBUTE_SPECIAL = re.compile(f'[&<>"\n\r\t{_NOT_XML_CHARS}]')
"""Text needing an escape, or that XML cannot hold: one search tells both apart from the
common text that needs neither (so the whole document needs no scan of its own)."""


def _escape_text(text: str) -> str:
    """Text content as lxml writes it (``&``, ``<``, ``>`` and CR escaped)."""
    if _TEXT_SPECIAL.search(text) is None:
        return text
    if _NOT_XML.search(text) is not None:
        raise _NotPlain
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;")


def _escape_attribute(text: str) -> str:
    """An attribute value as lxml writes it (also ``"``, LF, CR and TAB escaped)."""
    if _ATTRIBUTE_SPECIAL.search(text) is None:
        return text
    if _NOT_XML.search(text) is not None:
        raise _NotPlain
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")
    return text.replace("\t", "&#9;")


class _NotPlain(Exception):
    """Data the fast path leaves to :class:`_Writer`."""


def _write_plain(parts: list[str], name: str, value: Any, item: str) -> None:
    """Append the element ``name`` holding ``value`` to ``parts`` as XML text."""
    if not _NAMES.get(name) and not _plain_name(name):
        raise _NotPlain
    if isinstance(value, dict):
        _write_plain_object(parts, name, value, item)
    elif isinstance(value, _SEQUENCES):
        parts.append(f"<{name}>")
        start = len(parts)
        for each in value:
            _write_plain(parts, item, each, item)
        if len(parts) == start:
            parts[-1] = f"<{name}/>"
        else:
            parts.append(f"</{name}>")
    elif value is None:
        parts.append(f"<{name}/>")
    else:
        parts.append(f"<{name}>{_plain_text(value)}</{name}>")


def _write_plain_object(parts: list[str], name: str, value: dict[Any, Any], item: str) -> None:
    head = len(parts)
    parts.append("")  # the start tag, once the attributes are known
    attributes = text = ""
    has_text = False
    for key, child in value.items():
        role = _ROLES.get(key)
        if role is None:
            role = _role(key)
        kind = type(child)
        if role:  # an attribute (its name) or "#" for the text
            if role == "#":
                text, has_text = _plain_text(child), True
            elif kind is str:
                attributes += f' {role}="{_escape_attribute(child)}"'
            else:
                attributes += f' {role}="{"" if child is None else _plain_value(child)}"'
        elif kind is str and child:
            parts.append(f"<{key}>{_escape_text(child)}</{key}>")
        elif kind is int:
            parts.append(f"<{key}>{child}</{key}>")
        elif kind is float:
            parts.append(f"<{key}>{child!r}</{key}>")
        elif isinstance(child, _SEQUENCES):
            for each in child:
                _write_plain(parts, key, each, item)
        else:
            _write_plain(parts, key, child, item)
    if len(parts) == head + 1 and not has_text:
        parts[head] = f"<{name}{attributes}/>"
    else:
        parts[head] = f"<{name}{attributes}>{text}"
        parts.append(f"</{name}>")


def _role(key: Any) -> str:
    """What a key of an object is: "" an element, "#" the text, else an attribute's name."""
    if type(key) is not str or key.startswith("@xmlns"):
        raise _NotPlain
    if key == "#text":
        role = "#"
    elif key[:1] == "@":
        role = key[1:]
        if not _plain_name(role):
            raise _NotPlain
    elif _plain_name(key):
        role = ""
    else:
        raise _NotPlain
    if len(_ROLES) < _MAX_NAMES:
        _ROLES[key] = role
    return role


def _plain_name(name: str) -> bool:
    """True when lxml takes ``name`` as an element and an attribute name without namespace."""
    if ":" in name or "{" in name:
        return False
    try:
        etree.Element(name).set(name, "")
    except ValueError:
        return False
    if len(_NAMES) < _MAX_NAMES:
        _NAMES[name] = True
    return True


def _plain_text(value: Any) -> str:
    """A scalar as escaped element text (libxml2 would read ``<a></a>`` back as ``<a/>``)."""
    kind = type(value)
    if kind is str and value:
        return _escape_text(value)
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value)
    return _escape_text(_other_scalar(value))


def _plain_value(value: Any) -> str:
    """A scalar as an escaped attribute value."""
    kind = type(value)
    if kind is str:
        return _escape_attribute(value)
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value)
    return _escape_attribute(_other_scalar(value))


def _other_scalar(value: Any) -> str:
    if isinstance(value, str | bool | int | float | Decimal) and value != "":
        return _scalar(value, "")
    raise _NotPlain
