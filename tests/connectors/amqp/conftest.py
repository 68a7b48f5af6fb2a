"""The ``rabbit`` fixture of the AMQP tests: the real broker, or a skip (a failure in CI)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from amqp_harness import Broker, broker, require


@pytest.fixture
async def rabbit() -> AsyncIterator[Broker]:
    require("rabbitmq")
    async with broker() as helper:
        yield helper
