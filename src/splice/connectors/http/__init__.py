"""HTTP: a source that receives requests on the engine's shared server, and a sink that
calls an endpoint. See ``docs/guides/http.md``."""

from __future__ import annotations

from splice.connectors.http.server import HttpServer, RouteConflict
from splice.connectors.http.sink import HttpSink, HttpSinkConfig
from splice.connectors.http.source import HttpSource, HttpSourceConfig

__all__ = [
    "HttpServer",
    "HttpSink",
    "HttpSinkConfig",
    "HttpSource",
    "HttpSourceConfig",
    "RouteConflict",
]
