"""Config and public surface of the HTTP connector."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

import splice.connectors.http as http
from splice.components import registry
from splice.connectors.http.source import SPEC, HttpSourceConfig


def test_public_names() -> None:
    assert http.__all__ == [
        "HttpServer",
        "HttpSink",
        "HttpSinkConfig",
        "HttpSource",
        "HttpSourceConfig",
        "RouteConflict",
    ]


def test_registry_finds_source_and_sink() -> None:
    assert registry.get("source", "http").name == "http"
    assert registry.get("sink", "http").name == "http"


def test_source_defaults_and_shorthand() -> None:
    config = SPEC.parse("/crm/orders")
    assert isinstance(config, HttpSourceConfig)
    assert (config.path, config.method, config.reply, config.status) == (
        "/crm/orders",
        "POST",
        "sync",
        200,
    )
    assert SPEC.parse({"path": "/a", "method": "put"}).method == "PUT"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "raw",
    [
        {"path": "orders"},
        {"path": "/orders?x=1"},
        {"path": "/orders", "method": "TRACE"},
        {"path": "/orders", "reply": "later"},
        {"path": "/orders", "status": 404},
        {"path": "/orders", "max_body_bytes": 0},
        {"path": "/orders", "unknown": 1},
    ],
)
def test_invalid_source_config_is_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SPEC.parse(raw)
