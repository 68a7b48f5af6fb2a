"""SOAP: a source that serves a WSDL operation on the engine's HTTP server, and a sink that
calls one. WSDLs load offline with zeep. See ``docs/guides/soap.md``."""

from __future__ import annotations

from splice.connectors.soap._wsdl import WsdlError
from splice.connectors.soap.sink import (
    SoapFaultPermanent,
    SoapFaultTransient,
    SoapSink,
    SoapSinkConfig,
)
from splice.connectors.soap.source import SoapSource, SoapSourceConfig

__all__ = [
    "SoapFaultPermanent",
    "SoapFaultTransient",
    "SoapSink",
    "SoapSinkConfig",
    "SoapSource",
    "SoapSourceConfig",
    "WsdlError",
]
