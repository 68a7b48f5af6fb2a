"""The running engine's state, as ``splice status --url`` shows it.

:func:`snapshot` reads an :class:`~splice.runtime.engine.Engine` in the same process: per
flow its version, counters (received, acked, nacked, dead-lettered) and messages in flight;
every circuit breaker's state. :func:`register` serves it as ``GET /_splice/status`` on
the engine's HTTP server, when the engine runs one (a flow has an HTTP source); call it
once the engine has started. The store's side (dead letters, journal, open groups) is read
by :func:`store_status`, which needs no running engine.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson

from splice.runtime.breaker import Breakers

if TYPE_CHECKING:
    from collections.abc import Iterable, MutableMapping

    from splice.connectors.http.problem import Reply
    from splice.runtime.engine import Engine
    from splice.store import Store

__all__ = ["PATH", "register", "snapshot", "store_status"]

PATH = "/_splice/status"
_OWNER = "_splice"


def snapshot(engine: Engine) -> dict[str, Any]:
    """Flows (counters, in flight) and breakers of a running engine, JSON-ready."""
    flows = {
        name: {
            "version": runner.version,
            **runner.counts,
            "in_flight": runner.in_flight,
            "max_in_flight": runner.max_in_flight,
        }
        for name, runner in sorted(engine.flows.items())
    }
    breakers = engine.shared.peek("breakers")
    now = time.monotonic()
    return {
        "project": engine.project.settings.project,
        "flows": flows,
        "breakers": [_breaker(item, now) for item in _snapshots(breakers)],
    }


def register(engine: Engine) -> bool:
    """Serve :func:`snapshot` at ``GET /_splice/status``; False when there is no HTTP server."""
    server = engine.shared.peek("http.server")
    if server is None:
        return False
    from splice.connectors.http.problem import Reply

    async def status(_scope: MutableMapping[str, Any], _headers: Any, _body: bytes) -> Reply:
        return Reply(200, orjson.dumps(snapshot(engine)), "application/json")

    server.register("GET", PATH, status, owner=_OWNER)
    return True


async def store_status(store: Store, flows: Iterable[str]) -> dict[str, dict[str, int]]:
    """Per flow: dead letters pending, journal entries pending, aggregation groups open."""
    status: dict[str, dict[str, int]] = {}
    for flow in flows:
        pending = await store.dead_letters.list(flow, None, 1_000_000, status="pending")
        status[flow] = {
            "dead_letters": len(pending),
            "journal": await store.journal.count_pending(flow),
            "open_groups": len(await store.aggregations.open_groups(flow)),
        }
    return status


def _snapshots(breakers: object) -> list[dict[str, Any]]:
    return breakers.snapshots() if isinstance(breakers, Breakers) else []


def _breaker(state: dict[str, Any], now: float) -> dict[str, Any]:
    """Breaker times are on the engine's monotonic clock: give them as seconds from now."""
    opened, probe = state.get("opened_at"), state.get("next_probe_at")
    return {
        "endpoint": state["endpoint"],
        "state": state["state"],
        "failures": state["failures"],
        "open_for": round(now - opened, 3) if opened is not None else None,
        "next_probe_in": round(max(0.0, probe - now), 3) if probe is not None else None,
    }
