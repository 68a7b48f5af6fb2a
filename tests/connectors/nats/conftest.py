"""Real NATS (JetStream enabled) at 127.0.0.1:4222; unique subjects and streams per test."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from nats_harness import URL, require
from ulid import ULID

from splice.components.context import Context


@pytest.fixture
def unique() -> str:
    return str(ULID()).lower()


@pytest.fixture
def context(tmp_path: Path) -> Context:
    return Context(project_dir=tmp_path, flow="nats-test")


@pytest.fixture
async def jetstream() -> AsyncIterator[Callable[[str], Any]]:
    """Streams named through ``jetstream(name)`` are deleted after the test."""
    require("nats")
    import nats

    client = await nats.connect(URL)
    names: list[str] = []

    def track(name: str) -> Any:
        names.append(name)
        return client.jetstream()

    yield track
    js = client.jetstream()
    for name in names:
        with contextlib.suppress(Exception):
            await js.delete_stream(name)
    await client.close()
