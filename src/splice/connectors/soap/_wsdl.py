"""Loading a WSDL with zeep, offline, and picking one operation of one port.

A WSDL file (and every schema it imports by relative path) is read from disk; a reference
to any ``http(s)://`` or ``file://`` location is refused, so loading never touches the
network. A WSDL given by URL is fetched once, when the connector opens. DTDs and entities
are refused. Anything zeep cannot make sense of becomes a :class:`WsdlError` naming the WSDL.
"""

from __future__ import annotations

import base64
import datetime as dt
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

from splice.errors import ConnectorError

__all__ = ["SOAP11", "SOAP12", "WsdlError", "WsdlOperation", "load_operation", "plain"]

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


class WsdlError(ConnectorError):
    """The WSDL cannot be loaded or does not describe the configured operation."""

    code = "soap-wsdl"


def _offline_transport() -> Any:
    from zeep.transports import Transport

    class OfflineTransport(Transport):
        def _load_remote_data(self, url: str) -> bytes:
            raise WsdlError(f"refused to fetch {url}: WSDLs and schemas are loaded from files")

    return OfflineTransport()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class WsdlOperation:
    """One operation of one port: zeep's client, binding, operation and endpoint address."""

    client: Any
    binding: Any
    operation: Any
    options: dict[str, Any]
    envelope_ns: str

    @property
    def name(self) -> str:
        return str(self.operation.name)

    @property
    def one_way(self) -> bool:
        return self.operation.output is None

    @property
    def version(self) -> str:
        return "1.2" if self.envelope_ns == SOAP12 else "1.1"

    def read_input(self, envelope: Any) -> Any:
        """The input message's body element as data (a dict of its children)."""
        return self._read(self.operation.input, envelope)

    def read_output(self, envelope: Any) -> Any:
        """The output message's body element as data (a dict of its children)."""
        return self._read(self.operation.output, envelope)

    def _read(self, message: Any, envelope: Any) -> Any:
        from lxml import etree  # type: ignore[import-untyped]

        body = getattr(message, "body", None)
        ns = etree.QName(envelope).namespace
        found = envelope.find(f"{{{ns}}}Body")
        child = (
            next((c for c in found if isinstance(c.tag, str)), None) if found is not None else None
        )
        if body is None or not hasattr(body, "parse") or child is None:
            return plain(message.deserialize(envelope))
        return plain(body.parse(child, self.client.wsdl.types))


def load_operation(
    wsdl: str,
    operation: str,
    *,
    service: str | None = None,
    port: str | None = None,
    online: bool = False,
    wsse: Any = None,
) -> WsdlOperation:
    """Load ``wsdl`` and find ``operation`` of ``service``/``port`` (default: the first)."""
    import zeep
    import zeep.exceptions
    from lxml import etree

    settings = zeep.Settings(
        strict=False, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    transport = zeep.Transport() if online else _offline_transport()  # type: ignore[no-untyped-call]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zeep warns about WSDL oddities it tolerates
            client = zeep.Client(wsdl, transport=transport, settings=settings, wsse=wsse)  # type: ignore[no-untyped-call]
            proxy = client.bind(service, port) if service or port else client.service
    except WsdlError:
        raise
    except zeep.exceptions.ExternalReferenceForbidden as exc:
        raise WsdlError(
            f"WSDL {_shown(wsdl)} refers to {exc.url}: refused, WSDLs and schemas load offline"
        ) from exc
    except (OSError, etree.LxmlError, ValueError, LookupError, AttributeError) as exc:
        raise WsdlError(f"cannot load WSDL {_shown(wsdl)}: {_reason(exc)}") from exc
    except Exception as exc:  # zeep's own exceptions do not share a base with the rest
        raise WsdlError(f"cannot load WSDL {_shown(wsdl)}: {_reason(exc)}") from exc
    binding = proxy._binding
    found = binding.get(operation) if operation in binding._operations else None
    if found is None:
        known = ", ".join(sorted(binding._operations)) or "none"
        raise WsdlError(f"WSDL {_shown(wsdl)} has no operation '{operation}' (known: {known})")
    envelope_ns = binding.nsmap.get("soap-env", SOAP11)
    return WsdlOperation(client, binding, found, dict(proxy._binding_options), envelope_ns)


def _shown(wsdl: str) -> str:
    parsed = urlparse(wsdl)
    if parsed.scheme in ("http", "https"):
        return f"{parsed.scheme}://{parsed.hostname}{parsed.path}"
    return wsdl


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def plain(value: Any) -> Any:
    """zeep values as plain data: dicts, lists, str, int, float, bool, None."""
    from zeep.helpers import serialize_object

    return _plain(serialize_object(value, dict))  # type: ignore[no-untyped-call]


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
