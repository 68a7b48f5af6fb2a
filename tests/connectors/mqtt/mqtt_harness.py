"""Helpers for the MQTT tests against the real Mosquitto: unique topics, builders, pulling."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

from splice.components.context import Context
from splice.components.interfaces import Delivery
from splice.components.registry import get
from splice.connectors.mqtt.sink import MqttSink
from splice.connectors.mqtt.source import MqttSource

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # tests/ is a package; these test folders are not
    sys.path.insert(0, str(ROOT))

from tests.services import require  # noqa: E402

__all__ = ["pull", "require", "sink", "source", "unique"]


def unique(prefix: str = "t") -> str:
    return f"splice-test/{prefix}-{uuid.uuid4().hex[:10]}"


def _context(tmp_path: Path) -> Context:
    return Context(project_dir=tmp_path, flow="mqtt-test")


def source(tmp_path: Path, **raw: Any) -> MqttSource:
    spec = get("source", "mqtt")
    built: MqttSource = spec.build(spec.parse(raw), _context(tmp_path))
    return built


def sink(tmp_path: Path, **raw: Any) -> MqttSink:
    spec = get("sink", "mqtt")
    built: MqttSink = spec.build(spec.parse(raw), _context(tmp_path))
    return built


async def pull(into: MqttSource, count: int, seconds: float = 10.0) -> list[Delivery]:
    """The next ``count`` deliveries of an open source (left unsettled)."""
    found: list[Delivery] = []
    iterator = into.deliveries()
    try:
        async with asyncio.timeout(seconds):
            while len(found) < count:
                found.append(await anext(iterator))
    finally:
        await iterator.aclose()  # type: ignore[attr-defined]
    return found
