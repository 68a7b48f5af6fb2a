"""SOAP envelopes on the wire: hardened parsing, and faults read and written (1.1 and 1.2).

Faults both ways use the standard codes: SOAP 1.1 ``Client`` / ``Server`` and SOAP 1.2
``Sender`` / ``Receiver`` (``VersionMismatch`` and ``MustUnderstand`` in both).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree  # type: ignore[import-untyped]

from splice.codecs.xml import safe_parser
from splice.connectors.soap._wsdl import SOAP11, SOAP12

__all__ = ["BadEnvelope", "Fault", "body_child", "fault_envelope", "parse_envelope", "read_fault"]

SPLICE_NS = "urn:splice:soap"
CONTENT_TYPES = {SOAP11: "text/xml; charset=utf-8", SOAP12: "application/soap+xml; charset=utf-8"}


class BadEnvelope(ValueError):
    """Bytes that are not a SOAP envelope one can accept (the reason is safe to show)."""


@dataclass(frozen=True)
class Fault:
    """A SOAP fault: ``code`` is the local name (``Client``, ``Sender``, ``Server``...)."""

    code: str
    string: str
    detail: str = ""
    subcode: str = ""

    @property
    def is_client(self) -> bool:
        """The sender's fault: retrying the same message cannot help."""
        return self.code.split(".")[0] in ("Client", "Sender", "VersionMismatch", "MustUnderstand")

    @property
    def is_server(self) -> bool:
        return self.code.split(".")[0] in ("Server", "Receiver")


def parse_envelope(data: bytes) -> etree._Element:
    """The Envelope element; BadEnvelope for a DTD, bad XML or another root."""
    head = data[:1024].lstrip()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise BadEnvelope("a SOAP message must not contain a DTD")
    try:
        root = etree.fromstring(data, safe_parser()) if head else None
    except etree.XMLSyntaxError as exc:
        raise BadEnvelope(f"not well-formed XML: {exc.msg}") from exc
    if root is None:
        raise BadEnvelope("empty request body")
    if etree.QName(root).localname != "Envelope" or etree.QName(root).namespace not in (
        SOAP11,
        SOAP12,
    ):
        raise BadEnvelope("the root element is not a SOAP 1.1 or 1.2 Envelope")
    return root


def body_child(envelope: etree._Element) -> etree._Element | None:
    ns = etree.QName(envelope).namespace
    body = envelope.find(f"{{{ns}}}Body")
    if body is None:
        raise BadEnvelope("the Envelope has no Body")
    return next((c for c in body if isinstance(c.tag, str)), None)


def read_fault(envelope: etree._Element) -> Fault | None:
    """The fault in a reply envelope, or None."""
    ns = etree.QName(envelope).namespace
    child = body_child(envelope)
    if child is None or child.tag != f"{{{ns}}}Fault":
        return None
    if ns == SOAP12:
        code = child.findtext(f"{{{ns}}}Code/{{{ns}}}Value") or ""
        sub = child.findtext(f"{{{ns}}}Code/{{{ns}}}Subcode/{{{ns}}}Value") or ""
        reason = child.findtext(f"{{{ns}}}Reason/{{{ns}}}Text") or ""
        detail = child.find(f"{{{ns}}}Detail")
    else:
        code = child.findtext("faultcode") or ""
        sub, reason, detail = "", child.findtext("faultstring") or "", child.find("detail")
    detail_text = " ".join("".join(detail.itertext()).split()) if detail is not None else ""
    local = code.rpartition(":")[2]
    return Fault(local, reason.strip(), detail_text[:500], sub.rpartition(":")[2])


def fault_envelope(ns: str, client: bool, text: str, splice_code: str) -> bytes:
    """A fault envelope: Client/Sender or Server/Receiver, with splice's code as detail."""
    env = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    body = etree.SubElement(env, f"{{{ns}}}Body")
    fault = etree.SubElement(body, f"{{{ns}}}Fault")
    if ns == SOAP12:
        code = etree.SubElement(etree.SubElement(fault, f"{{{ns}}}Code"), f"{{{ns}}}Value")
        code.text = f"soap:{'Sender' if client else 'Receiver'}"
        reason = etree.SubElement(etree.SubElement(fault, f"{{{ns}}}Reason"), f"{{{ns}}}Text")
        reason.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        reason.text = text
        detail = etree.SubElement(fault, f"{{{ns}}}Detail")
    else:
        etree.SubElement(fault, "faultcode").text = f"soap:{'Client' if client else 'Server'}"
        etree.SubElement(fault, "faultstring").text = text
        detail = etree.SubElement(fault, "detail")
    etree.SubElement(detail, f"{{{SPLICE_NS}}}code", nsmap={"splice": SPLICE_NS}).text = splice_code
    data: bytes = etree.tostring(env, xml_declaration=True, encoding="utf-8")
    return data
