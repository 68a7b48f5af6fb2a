"""The state store goes away mid-run: nothing is accepted that was not journaled."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from splice.connectors.http.server import HttpServer
from tests.runtime.engine_harness import eventually, files, start, write


async def test_a_202_source_answers_503_while_the_store_is_down_and_resumes_after(
    tmp_path: Path,
) -> None:
    root = write(
        tmp_path,
        {
            "splice.yaml": "http: {port: 0}\nstore: sqlite:///state.db?busy_timeout=0.1\n",
            "flows/inbound.yaml": """
                integration: inbound
                source: {http: {path: /in, reply: accepted}}
                sinks:
                  out: {file: {path: out, name: "{id}.txt"}}
            """,
        },
    )
    engine = await start(root)
    server = engine.shared.peek("http.server")
    assert isinstance(server, HttpServer)
    url = f"http://127.0.0.1:{server.port}/in"
    holder = sqlite3.connect(root / "state.db", isolation_level=None)
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            holder.execute("BEGIN IMMEDIATE")  # another process holds the store's write lock
            refused = await client.post(url, content=b"while down")
            holder.execute("ROLLBACK")

            async def accepted() -> bool:
                response = await client.post(url, content=b"after")
                return response.status_code == 202

            await eventually(accepted, 30)
            await eventually(lambda: len(files(root / "out")) == 1, 30)
    finally:
        holder.close()
        await engine.stop()
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    [written] = files(root / "out")
    assert (root / "out" / written).read_bytes() == b"after"
