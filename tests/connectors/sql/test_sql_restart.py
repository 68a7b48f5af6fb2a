"""PostgreSQL restarted while the sql sink inserts behind RetryingSink: nothing is lost.

The test runs its own PostgreSQL cluster (initdb in a temporary folder, a free port, as the
``postgres`` user), so that restarting it disturbs no other test using the shared server.
Upserts make a retry after a commit whose answer was lost harmless.
"""

from __future__ import annotations

import asyncio
import glob
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator

import pytest
from sql_harness import Database, require

from splice.components.context import Context
from splice.connectors.sql import SqlSink, SqlSinkConfig
from splice.message import Message
from splice.runtime.policies import OnError
from splice.runtime.retry import RetryingSink

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivateCluster:
    def __init__(self, bin_dir: str, folder: str) -> None:
        self.bin_dir = bin_dir
        self.folder = folder
        self.data = f"{folder}/data"
        self.port = free_port()

    async def run(self, *command: str) -> None:
        process = await asyncio.create_subprocess_exec(
            "runuser", "-u", "postgres", "--", *command,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, errors = await process.communicate()
        assert process.returncode == 0, errors.decode()

    async def init(self) -> None:
        await self.run(f"{self.bin_dir}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres")

    async def pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        await self.run(
            f"{self.bin_dir}/pg_ctl", "-D", self.data, "-o", options, "-w", action, *extra
        )


@pytest.fixture
async def cluster() -> AsyncIterator[PrivateCluster]:
    require("postgresql")
    if not BIN or shutil.which("runuser") is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    folder = tempfile.mkdtemp(prefix="splice-pg-")
    shutil.chown(folder, "postgres", "postgres")
    private = PrivateCluster(BIN[0], folder)
    try:
        await private.init()
        await private.pg_ctl("start")
        yield private
        await private.pg_ctl("stop", "-m", "immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def test_a_database_restart_mid_stream_loses_nothing(
    cluster: PrivateCluster, tmp_path: object
) -> None:
    db = Database(
        "postgresql", f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres", "orders"
    )
    await db.create()
    config = SqlSinkConfig(url=db.url, table="orders", on_conflict=["id"])
    policy = OnError.model_validate(
        {"retry": {"attempts": 200, "initial": "50ms", "max": "300ms"}, "circuit_breaker": None}
    )
    sink = RetryingSink(SqlSink(config, Context(cluster.folder, "restart")), policy)  # type: ignore[arg-type]
    await sink.open()
    total = 60
    messages = [Message({"id": number, "name": f"order {number}"}) for number in range(total)]
    try:
        for number, message in enumerate(messages):
            if number == total // 3:
                restart = asyncio.create_task(cluster.pg_ctl("restart", "-m", "fast"))
            await sink.send(message)
        await restart
    finally:
        await sink.close()
    rows = await db.execute("SELECT id FROM orders ORDER BY id")
    await db.engine.dispose()
    assert [row["id"] for row in rows] == list(range(total))
    assert max(message.attempts for message in messages) > 1  # the outage was felt
