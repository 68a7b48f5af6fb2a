"""The enrich step: lookup tables, a real local HTTP server, SQLite with a hostile key."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from splice.components.context import Context
from splice.errors import PermanentError, TransientError
from splice.message import Message
from splice.settings import ProjectSettings
from splice.steps.enrich import SPEC, EnrichStep


def _step(raw: object, tmp_path: Path, **settings: object) -> EnrichStep:
    context = Context(tmp_path, "orders", ProjectSettings.model_validate(settings))
    step = SPEC.build(SPEC.parse(raw), context)
    assert isinstance(step, EnrichStep)
    return step


async def test_lookup_table_result_goes_under_into(tmp_path: Path) -> None:
    (tmp_path / "countries.csv").write_text("key,value\nDE,Germany\n")
    raw = {"lookup": {"table": "countries", "key": "country"}, "into": "countryName"}
    step = _step(raw, tmp_path, lookups={"countries": "countries.csv"})
    [out] = await step.process(Message({"country": "DE"}))
    assert out.body == {"country": "DE", "countryName": "Germany"}


async def _customers(request: Request) -> JSONResponse:
    if request.query_params["id"] == "down":
        return JSONResponse({}, status_code=503)
    if request.query_params["id"] == "gone":
        return JSONResponse({}, status_code=404)
    return JSONResponse({"id": request.query_params["id"], "tier": "gold"})


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = Starlette(routes=[Route("/customers", _customers)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="off", log_config=None, log_level="warning")
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve(sockets=[sock]))
    while not running.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/customers"
    running.should_exit = True
    await task
    sock.close()


async def test_http_query_from_data_and_merge_expression(tmp_path: Path, server: str) -> None:
    raw = {
        "http": {"url": server, "query": {"id": "customerId"}},
        "merge": "$merge([$, {'tier': $enrichment.tier}])",
    }
    step = _step(raw, tmp_path)
    await step.open()
    try:
        [out] = await step.process(Message({"customerId": "c/../1?x"}))
        assert out.body == {"customerId": "c/../1?x", "tier": "gold"}
        with pytest.raises(TransientError):
            await step.process(Message({"customerId": "down"}))
        with pytest.raises(PermanentError):
            await step.process(Message({"customerId": "gone"}))
    finally:
        await step.close()


def test_http_url_must_be_fixed_http() -> None:
    with pytest.raises(ValidationError, match="fixed http"):
        SPEC.parse({"http": {"url": "file:///etc/passwd"}})


async def test_sql_binds_a_hostile_key_as_a_value(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table x (id text, name text)")
        conn.execute("insert into x values ('1', 'Ann')")
    conn.close()
    url = f"sqlite+aiosqlite:///{db}"
    raw = {
        "sql": {"url": url, "query": "select name from x where id = :id", "params": {"id": "id"}}
    }
    step = _step(raw, tmp_path)
    try:
        [out] = await step.process(Message({"id": "1"}))
        assert out.body["enrichment"] == {"name": "Ann"}
        [out] = await step.process(Message({"id": "'; DROP TABLE x; --"}))
        assert out.body["enrichment"] is None
        [out] = await step.process(Message({"id": "1"}))
        assert out.body["enrichment"] == {"name": "Ann"}
    finally:
        await step.close()


def test_sql_params_must_match_the_query() -> None:
    with pytest.raises(ValidationError, match="need exactly those"):
        SPEC.parse({"sql": {"url": "sqlite+aiosqlite://", "query": "select :a", "params": {}}})
