"""Crash harness: messages in over HTTP (202), ``kill -9`` of ``splice run`` at random moments.

Run it with ``python -m tests.chaos.harness`` (see ``docs/guides/chaos.md``). Settings from
the environment:

- ``CHAOS_N`` messages (default 100000), each with a unique business key;
- ``CHAOS_KILLS`` kill -9 of the engine process (default 20), each followed by a restart;
- ``CHAOS_SEED`` for the random kill moments (default: random, printed);
- ``CHAOS_KEYED`` 1 (default) when effects are applied once per key, 0 to see what
  duplicates would do without a key;
- ``CHAOS_DEDUPE`` ``auto`` (default: a ``dedupe`` step on the key when the step exists),
  ``1`` or ``0``;
- ``CHAOS_DIR`` to keep the project, store and logs there (default: a temporary folder).

The flow takes ``POST /in`` answered ``202 Accepted`` (so the engine journals each message
before answering) and appends every delivery to ``out/deliveries.log``. When the ``dedupe``
step exists, the flow also dedupes on the key. Senders retry every message until it is
answered 202, like any well-behaved client: a message whose answer was lost in a crash is
sent twice, which is what idempotency keys are for.

The last line printed is, exactly::

    chaos: in=N out=N lost=N duplicates_delivered=N duplicate_effects=N dead_letters=N
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

__all__ = ["ChaosResult", "Settings", "main", "run"]

_SENDERS = 32
_LOG = "out/deliveries.log"
_START_SECONDS = 60.0
_QUIET_SECONDS = 3.0


@dataclass(frozen=True)
class Settings:
    messages: int = 100_000
    kills: int = 20
    seed: int = 0
    keyed: bool = True
    folder: Path | None = None
    dedupe: str = "auto"

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            messages=int(env.get("CHAOS_N", "100000")),
            kills=int(env.get("CHAOS_KILLS", "20")),
            seed=int(env.get("CHAOS_SEED") or random.randrange(1 << 30)),
            keyed=env.get("CHAOS_KEYED", "1") != "0",
            folder=Path(env["CHAOS_DIR"]) if env.get("CHAOS_DIR") else None,
            dedupe=env.get("CHAOS_DEDUPE", "auto"),
        )

    def with_dedupe(self) -> bool:
        if self.dedupe == "auto":
            return has_dedupe_step()
        return self.dedupe != "0"


@dataclass(frozen=True)
class ChaosResult:
    sent: int
    """Messages in: distinct keys answered 202."""
    delivered: int
    """Distinct keys found at the sink."""
    deliveries: int
    """Every delivery at the sink, duplicates included."""
    duplicate_effects: int
    """Duplicate deliveries that a key did not absorb (0 when keyed)."""
    dead_letters: int
    kills: int
    resends: int
    """Requests sent again because the engine died before answering."""
    dedupe_step: bool
    seconds: float

    @property
    def lost(self) -> int:
        return self.sent - self.delivered

    @property
    def duplicates_delivered(self) -> int:
        return self.deliveries - self.delivered

    @property
    def absorbed(self) -> int:
        return self.duplicates_delivered - self.duplicate_effects

    def table(self) -> str:
        rows = [
            ("messages in", self.sent),
            ("distinct out", self.delivered),
            ("lost", self.lost),
            ("duplicates delivered", self.duplicates_delivered),
            ("duplicate effects absorbed by the key", self.absorbed),
            ("duplicate effects", self.duplicate_effects),
            ("dead letters", self.dead_letters),
            ("kill -9 / restarts", self.kills),
            ("requests sent again", self.resends),
        ]
        width = max(len(name) for name, _ in rows)
        lines = [f"{name:<{width}}  {value:>9}" for name, value in rows]
        dedupe = "dedupe step on the key" if self.dedupe_step else "effects applied per key"
        lines.append(f"({dedupe}; {self.seconds:.1f} s)")
        return "\n".join(lines)

    def summary(self) -> str:
        return (
            f"chaos: in={self.sent} out={self.delivered} lost={self.lost} "
            f"duplicates_delivered={self.duplicates_delivered} "
            f"duplicate_effects={self.duplicate_effects} dead_letters={self.dead_letters}"
        )


# -- the project ----------------------------------------------------------------------------


def has_dedupe_step() -> bool:
    from splice.components import registry

    return "dedupe" in registry.names("step")


def write_project(folder: Path, port: int, *, dedupe: bool) -> None:
    steps = ["decode: json", "dedupe: {key: key}", "encode: json"] if dedupe else []
    flow = [
        "integration: chaos",
        "source: {http: {path: /in, reply: accepted}}",
        *(["steps:"] + [f"  - {step}" for step in steps] if steps else []),
        "sinks:",
        "  out: {file: {path: out, mode: append, name: deliveries.log}}",
    ]
    project = [
        "project: chaos",
        f"http: {{host: 127.0.0.1, port: {port}}}",
        "runtime: {max_in_flight: 64, drain_timeout: 5s}",
    ]
    (folder / "flows").mkdir(parents=True, exist_ok=True)
    (folder / "splice.yaml").write_text("\n".join(project) + "\n")
    (folder / "flows" / "chaos.yaml").write_text("\n".join(flow) + "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the engine process ---------------------------------------------------------------------


class EngineProcess:
    """``splice run`` in a child process, killed and restarted on demand."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def spawn(self) -> None:
        self.starts += 1
        log = (self.folder / f"engine-{self.starts}.log").open("wb")
        command = [str(Path(sys.executable).parent / "splice"), "run", str(self.folder)]
        command += ["--log-level", "warning"]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    async def ready(self, client: httpx.AsyncClient) -> None:
        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"splice run exited with {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{self.url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
        raise TimeoutError("splice run did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- the run --------------------------------------------------------------------------------


class Sender:
    """Sends every key until it is answered 202, with ``_SENDERS`` concurrent clients."""

    def __init__(self, url: str, messages: int) -> None:
        self.url = f"{url}/in"
        self.keys: asyncio.Queue[int] = asyncio.Queue()
        for number in range(messages):
            self.keys.put_nowait(number)
        self.accepted = 0
        self.resends = 0
        self.progress = asyncio.Event()

    async def run(self, client: httpx.AsyncClient) -> None:
        await asyncio.gather(*(self._worker(client) for _ in range(_SENDERS)))

    async def _worker(self, client: httpx.AsyncClient) -> None:
        while not self.keys.empty():
            number = self.keys.get_nowait()
            body = orjson.dumps({"key": f"k{number:08d}"})
            while not await self._send(client, body):
                self.resends += 1
                await asyncio.sleep(0.02)
            self.accepted += 1
            self.progress.set()

    async def _send(self, client: httpx.AsyncClient, body: bytes) -> bool:
        try:
            reply = await client.post(self.url, content=body)
        except httpx.HTTPError:
            return False
        return reply.status_code == 202


async def _kill_at_random(
    engine: EngineProcess, sender: Sender, client: httpx.AsyncClient, settings: Settings
) -> int:
    rng = random.Random(settings.seed)
    moments = sorted(rng.randrange(1, max(2, settings.messages)) for _ in range(settings.kills))
    killed = 0
    for moment in moments:
        while sender.accepted < moment:
            sender.progress.clear()
            await sender.progress.wait()
        await asyncio.sleep(rng.uniform(0, 0.05))
        engine.kill()
        killed += 1
        engine.spawn()
        await engine.ready(client)
    return killed


async def _delivered(folder: Path, keyed: bool) -> tuple[int, int, int]:
    """(distinct keys, deliveries, duplicate effects) found at the sink."""
    path = folder / _LOG
    raw = await asyncio.to_thread(path.read_bytes) if path.exists() else b""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        with contextlib.suppress(orjson.JSONDecodeError, TypeError, KeyError):
            counts[orjson.loads(line)["key"]] += 1
    deliveries = sum(counts.values())
    duplicates = deliveries - len(counts)
    return len(counts), deliveries, 0 if keyed else duplicates


async def _settle(folder: Path, settings: Settings) -> None:
    """Wait until the journal is empty and the sink got every key, or stopped growing."""
    from splice.store import Store

    deadline = time.monotonic() + 60.0 + settings.messages / 200
    last, still_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        distinct, deliveries, _ = await _delivered(folder, settings.keyed)
        if deliveries != last:
            last, still_since = deliveries, time.monotonic()
        store = await Store.open("sqlite:///.splice/state.db", project_dir=folder)
        try:
            journal_empty = await store.journal.count_pending("chaos") == 0
        finally:
            await store.close()
        if journal_empty and (
            distinct >= settings.messages or time.monotonic() - still_since > _QUIET_SECONDS
        ):
            return
        await asyncio.sleep(0.2)


async def _dead_letters(folder: Path) -> int:
    from splice.store import Store

    store = await Store.open("sqlite:///.splice/state.db", project_dir=folder)
    try:
        return await store.dead_letters.count("chaos")
    finally:
        await store.close()


async def run(settings: Settings) -> ChaosResult:
    """One chaos run in ``settings.folder`` (which must be empty or new)."""
    assert settings.folder is not None
    folder = settings.folder
    started = time.monotonic()
    dedupe = settings.with_dedupe()
    port = free_port()
    write_project(folder, port, dedupe=dedupe)
    engine = EngineProcess(folder, port)
    sender = Sender(engine.url, settings.messages)
    limits = httpx.Limits(max_connections=_SENDERS, max_keepalive_connections=_SENDERS)
    async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:
        engine.spawn()
        try:
            await engine.ready(client)
            sending = asyncio.create_task(sender.run(client))
            killed = await _kill_at_random(engine, sender, client, settings)
            await sending
            await _settle(folder, settings)
        finally:
            engine.stop()
    distinct, deliveries, duplicate_effects = await _delivered(folder, settings.keyed)
    return ChaosResult(
        sent=settings.messages,
        delivered=distinct,
        deliveries=deliveries,
        duplicate_effects=duplicate_effects,
        dead_letters=await _dead_letters(folder),
        kills=killed,
        resends=sender.resends,
        dedupe_step=dedupe,
        seconds=time.monotonic() - started,
    )


def main() -> None:
    settings = Settings.from_env()
    dedupe = "a dedupe step" if settings.with_dedupe() else "no dedupe step"
    print(
        f"chaos: {settings.messages} messages, {settings.kills} kills, seed {settings.seed}, "
        f"{dedupe}",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        folder = settings.folder
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chaos-")))
        settings = dataclasses.replace(settings, folder=folder)
        result = asyncio.run(run(settings))
    print(result.table())
    print(result.summary(), flush=True)
    sys.exit(0 if result.lost == 0 and result.duplicate_effects == 0 else 1)


if __name__ == "__main__":
    main()
