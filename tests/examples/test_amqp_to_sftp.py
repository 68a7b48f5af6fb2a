"""examples/amqp-to-sftp end to end: the real RabbitMQ, a real asyncssh SFTP server on
loopback and `splice run` as a subprocess, killed with SIGKILL in two of the tests.

Each test runs its own copy of the project, with a queue and an exchange of its own (deleted
afterwards) and with batch windows of a few seconds instead of a minute.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.services import require

pytest.importorskip("asyncssh")
aiormq = pytest.importorskip("aiormq")

from tests.connectors.sftp.sftp_harness import PASSWORD, USER, SftpServer, sftp_server  # noqa: E402

pytestmark = pytest.mark.service

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "amqp-to-sftp"
FLOW = Path("flows") / "payments-to-sftp.yaml"
SPLICE = Path(sys.executable).parent / "splice"
BROKER = "amqp://guest:guest@127.0.0.1:5672/"
TIMEOUT = 60.0
COLUMNS = [
    "payment_id",
    "settled_at",
    "amount",
    "currency",
    "payer_name",
    "payer_iban",
    "payee_name",
    "payee_iban",
    "reference",
]


@dataclass
class Example:
    """One copy of the project, its broker names, its SFTP server and its `splice run`."""

    dir: Path
    queue: str
    exchange: str
    server: SftpServer
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def outbox(self) -> Path:
        return self.server.root / "inbound" / "payments"

    def configure(self, *, window_ms: int, timeout: str) -> None:
        """Batch by windows of ``window_ms`` completed ``timeout`` after their first payment."""
        flow = self.dir / FLOW
        text = (EXAMPLE / FLOW).read_text()
        for old, new in [
            ("host: sftp.finance.example", "host: 127.0.0.1"),
            ("port: 22\n", f"port: {self.server.port}\n"),
            ("username: splice-payments", f"username: {USER}"),
            ("payments.to-sftp", self.queue),
            ("name: payments,", f"name: {self.exchange},"),
            ("exchange: payments,", f"exchange: {self.exchange},"),
            ("$millis() / 60000) * 60000", f"$millis() / {window_ms}) * {window_ms}"),
            ("timeout: 90s", f"timeout: {timeout}"),
            # upload retries a second apart at most, and no breaker pause, to keep tests short
            ("retry: {attempts: 10000, max: 1m,", "retry: {attempts: 10000, max: 1s,"),
            ("    on_error:\n", "    on_error:\n      circuit_breaker: null\n"),
        ]:
            assert old in text, old
            text = text.replace(old, new)
        flow.write_text(text)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(SPLICE), "run", str(self.dir)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
            )

    async def kill(self) -> None:
        """SIGKILL: no drain, no clean shutdown, nothing acked on the way out."""
        await self._end(signal.SIGKILL)

    async def stop(self) -> None:
        """SIGTERM: a clean shutdown."""
        await self._end(signal.SIGTERM)

    async def _end(self, how: signal.Signals) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(how)
            await asyncio.to_thread(process.wait, TIMEOUT)

    async def eventually(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while asyncio.get_running_loop().time() < deadline:
            if await check():
                return
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"splice run exited while waiting for {what}:\n{self.output()}")
            await asyncio.sleep(0.1)
        pytest.fail(f"timed out waiting for {what}:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    # -- what is where -------------------------------------------------------------------

    def files(self) -> list[str]:
        """The files under their final names (an upload in progress has a hidden name)."""
        if not self.outbox.is_dir():
            return []
        return sorted(
            p.name for p in self.outbox.iterdir() if p.is_file() and not p.name.startswith(".")
        )

    def rows(self) -> list[list[str]]:
        """Every data row of every CSV file, checking that each file starts with the header."""
        found: list[list[str]] = []
        for name in self.files():
            assert name.startswith("payments-") and name.endswith(".csv"), name
            with (self.outbox / name).open(newline="", encoding="utf-8") as handle:
                header, *rows = list(csv.reader(handle, strict=True))
            assert header == COLUMNS, name
            found += rows
        return found

    def ids(self) -> list[str]:
        return [row[0] for row in self.rows()]

    def stored(self) -> int:
        """Payments held in open batches in the state store (acked on RabbitMQ, not on SFTP)."""
        path = self.dir / ".splice" / "state.db"
        if not path.exists():
            return 0
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
                query = "SELECT count(*) FROM splice_aggregation_messages"
                return int(db.execute(query).fetchone()[0])
        except sqlite3.OperationalError:  # the engine has not created its tables yet
            return 0


@pytest.fixture
async def example(tmp_path: Path) -> AsyncIterator[Example]:
    require("rabbitmq")
    run = uuid.uuid4().hex[:10]
    project = tmp_path / "amqp-to-sftp"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".splice", "tests"))
    async with sftp_server(tmp_path / "remote") as server:
        (project / "config" / "known_hosts").write_text(server.known_hosts_line())
        env = os.environ | {"SFTP_PASSWORD": PASSWORD}
        queue, exchange = f"test.payments.{run}", f"test.payments.{run}"
        it = Example(project, queue, exchange, server, env, tmp_path / "splice.log")
        await declare(it)
        try:
            yield it
        finally:
            await it.kill()
            await forget(it)


# -- RabbitMQ ------------------------------------------------------------------------------


async def declare(example: Example) -> None:
    """The example's topology, declared before the flow runs: nothing published is dropped."""
    connection = await aiormq.connect(BROKER)
    try:
        channel = await connection.channel()
        await channel.exchange_declare(example.exchange, exchange_type="topic", durable=True)
        await channel.queue_declare(
            example.queue, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await channel.queue_bind(example.queue, example.exchange, routing_key="payment.settled")
    finally:
        await connection.close()


async def forget(example: Example) -> None:
    connection = await aiormq.connect(BROKER)
    try:
        channel = await connection.channel()
        await channel.queue_delete(example.queue)
        await channel.exchange_delete(example.exchange)
    finally:
        await connection.close()


async def publish(example: Example, payments: list[dict[str, Any]]) -> None:
    """Publish with publisher confirms: every payment is on the queue when this returns."""
    from pamqp.commands import Basic

    connection = await aiormq.connect(BROKER)
    try:
        channel = await connection.channel(publisher_confirms=True)
        for payment in payments:
            properties = Basic.Properties(
                content_type="application/json",
                delivery_mode=2,
                message_id=str(payment.get("paymentId", "")),
            )
            confirmation = await channel.basic_publish(
                json.dumps(payment).encode(),
                exchange=example.exchange,
                routing_key="payment.settled",
                properties=properties,
            )
            assert isinstance(confirmation, Basic.Ack), confirmation
    finally:
        await connection.close()


async def waiting(example: Example) -> int:
    """Messages ready on the queue (unacked ones count once their consumer is gone)."""
    connection = await aiormq.connect(BROKER)
    try:
        channel = await connection.channel()
        declared = await channel.queue_declare(example.queue, passive=True)
        assert declared is not None
        return int(declared.message_count or 0)
    finally:
        await connection.close()


# -- payments ------------------------------------------------------------------------------


def payment(number: int, **extra: Any) -> dict[str, Any]:
    return {
        "paymentId": f"P-{number:05d}",
        "settledAt": f"2026-01-02T03:{number // 60 % 60:02d}:{number % 60:02d}Z",
        "amount": number + 0.25,
        "currency": "EUR",
        "payer": {"name": f"Payer {number}", "iban": "DE89370400440532013000"},
        "payee": {"name": "Globex", "iban": "FR1420041010050500013M02606"},
        "reference": f"INV-{number}",
        **extra,
    }


def ids(numbers: range) -> list[str]:
    return [f"P-{n:05d}" for n in numbers]


async def test_payments_become_one_csv_file_per_batch_and_the_queue_drains(
    example: Example,
) -> None:
    example.configure(window_ms=2000, timeout="3s")
    awkward = payment(
        1,
        payer={"name": "Acme, Inc.", "iban": "DE89370400440532013000"},
        reference='Invoice "42",\nsecond line',
    )
    invalid = payment(999) | {"currency": "euro"}
    example.start()
    await publish(example, [awkward] + [payment(n) for n in range(2, 31)] + [invalid])

    async def first_batch() -> bool:
        return sorted(example.ids()) == ids(range(1, 31))

    await example.eventually(first_batch, "the first 30 payments on the SFTP server")
    await publish(example, [payment(n) for n in range(31, 61)])

    async def all_of_them() -> bool:
        return len(example.ids()) >= 60

    await example.eventually(all_of_them, "all 60 payments on the SFTP server")
    await example.stop()

    assert sorted(example.ids()) == ids(range(1, 61))  # each payment once, the invalid one not
    assert len(example.files()) >= 2  # the second burst came after the first file was written
    assert await waiting(example) == 0
    assert example.stored() == 0
    assert not [p.name for p in example.outbox.iterdir() if p.name.startswith(".")]

    rows = {row[0]: row for row in example.rows()}
    assert rows["P-00001"] == [
        "P-00001",
        "2026-01-02T03:00:01Z",
        "1.25",
        "EUR",
        "Acme, Inc.",
        "DE89370400440532013000",
        "Globex",
        "FR1420041010050500013M02606",
        'Invoice "42",\nsecond line',
    ]
    texts = [(example.outbox / name).read_bytes() for name in example.files()]
    [text] = [t for t in texts if b"P-00001" in t]
    assert b'"Acme, Inc."' in text and b'"Invoice ""42"",\nsecond line"' in text
    assert text.startswith(b"payment_id,settled_at,amount,") and b"\r\n" in text

    letters = await dead_letters(example)
    assert [(letter["step"], letter["error_code"]) for letter in letters] == [
        ("steps[1].validate", "contract")
    ], letters


async def test_payments_are_acked_once_in_their_batch_and_the_batch_survives_a_sigkill(
    example: Example,
) -> None:
    # Batches that complete only after an hour: the first two runs never write a file.
    example.configure(window_ms=60_000, timeout="1h")
    example.start()
    await publish(example, [payment(n) for n in range(1, 51)])
    await example.eventually(stored(example, 50), "50 payments stored in their batch")
    await example.stop()

    # What the engine guarantees, and what it does not: every payment was acked on
    # RabbitMQ once stored in its batch, before its CSV file existed. From then on the
    # state store holds it, not the broker.
    assert await waiting(example) == 0
    assert example.files() == []
    assert example.stored() == 50

    example.start()
    await publish(example, [payment(n) for n in range(51, 101)])
    await example.eventually(stored(example, 100), "100 payments stored in their batches")
    await example.kill()
    assert example.files() == []
    assert example.stored() == 100

    example.configure(window_ms=60_000, timeout="2s")
    example.start()  # the open batches are reloaded and their timeouts re-armed

    async def written() -> bool:
        return set(example.ids()) == set(ids(range(1, 101)))

    await example.eventually(written, "the stored batches on the SFTP server after restart")
    await example.stop()
    found = Counter(example.ids())
    # A payment whose ack the SIGKILL cut off comes again from RabbitMQ: at least once.
    assert all(count == 1 for key, count in found.items() if key <= "P-00050"), found
    assert max(found.values()) <= 2, found
    assert await waiting(example) == 0
    assert example.stored() == 0


async def test_a_batch_waits_in_the_store_while_the_server_refuses_its_upload(
    example: Example,
) -> None:
    example.configure(window_ms=1000, timeout="2s")
    server = example.server
    example.start()

    async def opened() -> bool:
        return example.outbox.is_dir()

    await example.eventually(opened, "the sink to create its remote folder")
    # The remote folder becomes a file: every upload fails (a transient server failure).
    example.outbox.rmdir()
    example.outbox.write_text("not a folder")
    await publish(example, [payment(n) for n in range(1, 21)])

    def attempts() -> int:
        return sum(event.startswith("write inbound/payments/.") for event in server.events)

    async def refused() -> bool:
        return attempts() >= 3

    await example.eventually(refused, "uploads tried and refused three times")
    assert example.stored() == 20  # the batch is still in the store
    assert example.files() == []
    example.outbox.unlink()
    example.outbox.mkdir()

    async def written() -> bool:
        return len(example.ids()) >= 20

    await example.eventually(written, "the batch on the server once it accepts uploads")
    await example.stop()
    assert sorted(example.ids()) == ids(range(1, 21))
    assert await dead_letters(example) == []
    assert await waiting(example) == 0
    assert example.stored() == 0


def stored(example: Example, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return example.stored() == count

    return check


async def test_a_sigkill_mid_stream_loses_no_payment(example: Example) -> None:
    example.configure(window_ms=1000, timeout="2s")
    example.start()
    await publish(example, [payment(n) for n in range(1, 201)])

    async def batching() -> bool:
        return example.stored() > 0

    await example.eventually(batching, "payments to be held in an open batch")
    await example.kill()
    await publish(example, [payment(n) for n in range(201, 301)])  # while the engine is down
    example.start()

    async def complete() -> bool:
        return set(example.ids()) == set(ids(range(1, 301)))

    await example.eventually(complete, "all 300 payments on the SFTP server after restart")
    await example.stop()

    found = Counter(example.ids())
    assert set(found) == set(ids(range(1, 301)))
    # At least once: a payment stored in a batch whose ack the SIGKILL cut off is delivered
    # again by RabbitMQ, so it may be in two rows (README.md, "Delivery guarantee").
    duplicates = {key: count for key, count in found.items() if count > 1}
    assert all(count == 2 for count in duplicates.values()), duplicates
    assert await waiting(example) == 0
    assert example.stored() == 0


async def dead_letters(example: Example) -> list[dict[str, Any]]:
    listed = await asyncio.to_thread(
        subprocess.run,
        [str(SPLICE), "dlq", "list", "--project", str(example.dir), "--json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
        env=example.env,
    )
    letters: list[dict[str, Any]] = json.loads(listed.stdout)
    return letters
