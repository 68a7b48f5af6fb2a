"""splice status: the store's side per flow, and a running engine's over GET /_splice/status."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from typer.testing import CliRunner

import splice.cli.run
import splice.cli.status  # noqa: F401 - registers the command
from splice.cli.app import app
from splice.message import Message
from splice.runtime import status as engine_status
from splice.store import Store
from tests.runtime.engine_harness import eventually, start, write

runner = CliRunner()


def project(root: Path) -> Path:
    return write(
        root,
        {
            "splice.yaml": "project: status-test\nhttp: {host: 127.0.0.1, port: 0}\n",
            "flows/orders.yaml": """
                integration: orders
                source: {http: {path: /orders, reply: accepted}}
                sinks:
                  out: {file: {path: out}}
            """,
            "flows/audit.yaml": """
                integration: audit
                source: {file: {path: audit-in}}
                sinks:
                  log: {file: {path: audit}}
            """,
        },
    )


async def seed(root: Path) -> None:
    store = await Store.open("sqlite:///.splice/state.db", project_dir=root)
    try:
        for _ in range(2):
            await store.dead_letters.add(
                flow="orders",
                flow_version="v1",
                step="sinks.out",
                error_class="PermanentError",
                error_code="permanent",
                error_message="refused",
                message=Message(b"{}"),
                attempts=[],
            )
        await store.journal.append("audit", Message(b"x"))
        await store.aggregations.add("orders", "group-1", Message(b"y"))
    finally:
        await store.close()


def test_status_shows_what_the_store_knows(tmp_path: Path) -> None:
    root = project(tmp_path)
    asyncio.run(seed(root))

    result = runner.invoke(app, ["status", str(root)])
    assert result.exit_code == 0, result.stderr
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["FLOW", "DEAD", "LETTERS", "JOURNAL", "OPEN", "GROUPS"],
        ["audit", "0", "1", "0"],
        ["orders", "2", "0", "1"],
    ]
    result = runner.invoke(app, ["status", str(root), "--json"])
    assert json.loads(result.stdout)["store"]["orders"] == {
        "dead_letters": 2,
        "journal": 0,
        "open_groups": 1,
    }


async def test_status_of_a_running_engine(tmp_path: Path) -> None:
    root = project(tmp_path)
    engine = await start(root)
    try:
        assert engine_status.register(engine)
        server = engine.shared.peek("http.server")
        assert server is not None
        url = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient() as client:
            assert (await client.post(f"{url}/orders", content=b"{}")).status_code == 202
            await eventually(lambda: engine.flows["orders"].counts["acked"] == 1)
            reply = await client.get(url + engine_status.PATH)
        live = reply.json()
        assert live["flows"]["orders"]["received"] == 1
        assert live["flows"]["orders"]["in_flight"] == 0
        assert live["breakers"][0]["state"] == "closed"

        result = await asyncio.to_thread(runner.invoke, app, ["status", str(root), "--url", url])
    finally:
        await engine.stop()
    assert result.exit_code == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["orders", engine.project.flows["orders"].version, "1", "1", "0", "0", "0"] in lines
    assert any(line[1:3] == ["closed", "0"] for line in lines if line[0].startswith("file:"))


def test_an_unreachable_engine_exits_1(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = runner.invoke(app, ["status", str(root), "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the engine" in result.stderr


def test_no_http_server_no_status_route(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "flows/audit.yaml": """
                integration: audit
                source: {file: {path: audit-in}}
                sinks:
                  log: {file: {path: audit}}
            """,
        },
    )

    async def check() -> bool:
        engine = await start(root)
        try:
            snapshot = engine_status.snapshot(engine)
            assert snapshot["flows"]["audit"]["acked"] == 0
            return engine_status.register(engine)
        finally:
            await engine.stop()

    assert asyncio.run(check()) is False
