"""The public surface of the nats, redis and sql connector packages, and their lazy imports."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("package", "names"),
    [
        ("nats", ["NatsSink", "NatsSinkConfig", "NatsSource", "NatsSourceConfig", "NatsStream"]),
        ("redis", ["RedisSink", "RedisSinkConfig", "RedisSource", "RedisSourceConfig"]),
        ("sql", ["STATE_TABLE", "SqlSink", "SqlSinkConfig", "SqlSource", "SqlSourceConfig"]),
    ],
)
def test_all_lists_the_public_names(package: str, names: list[str]) -> None:
    module = importlib.import_module(f"splice.connectors.{package}")
    assert sorted(set(module.__all__) - {"json_value"}) == names
    for name in names:
        assert hasattr(module, name)


def test_importing_the_connectors_does_not_import_their_clients() -> None:
    code = (
        "import sys, splice.connectors.nats, splice.connectors.redis, splice.connectors.sql\n"
        "from splice.components import registry\n"
        "for kind in ('source', 'sink'):\n"
        "    for name in ('nats', 'redis', 'sql'):\n"
        "        registry.get(kind, name)\n"
        "print(sorted(m for m in ('nats', 'redis', 'asyncpg', 'aiomysql', 'aiosqlite')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
