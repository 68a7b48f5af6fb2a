"""Reaching the real services the connector tests talk to.

``require(name, port)`` returns when the service answers on 127.0.0.1:port. When it does
not, the test is skipped with a clear reason outside CI, and **fails** under ``CI=true``
(CI starts every service first, so an unreachable one is a real problem there).
"""

from __future__ import annotations

import os
import socket

import pytest

PORTS = {
    "postgresql": 5432,
    "mariadb": 3306,
    "redis": 6379,
    "rabbitmq": 5672,
    "mqtt": 1883,
    "nats": 4222,
}


def reachable(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require(name: str, port: int | None = None, host: str = "127.0.0.1") -> None:
    """Skip (outside CI) or fail (CI=true) unless ``name`` answers on its port."""
    port = port if port is not None else PORTS[name]
    if reachable(port, host):
        return
    reason = f"{name} is not reachable at {host}:{port}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: service tests must not skip)")
    pytest.skip(f"{reason}; start it (see .ci/services.sh) to run this test")
