"""``splice run --workers N``: a supervisor process and N worker processes.

The parent (:class:`Supervisor`) loads and checks the project, reserves the HTTP port when
a flow has an HTTP or SOAP source, and starts each worker as a fresh interpreter
(``python -m splice.runtime.workers``): no event loop, thread or connection is ever forked,
and the parent does not even import the engine or the store. Each worker listens on the
reserved port with a socket of its own, opens the state store (the first migrates it, the
others wait for that) and runs its own engine and event loop.

Why a socket per worker (``SO_REUSEPORT``): with one shared listening socket the worker that
wakes first accepts every connection waiting, and a client that opens its few keep-alive
connections at once (a load balancer's pool, wrk's 32) could have them all on one worker
while the other idled (seen: 2 workers no faster than 1 in 5 of 12 rounds). With a socket
each, the kernel spreads connections by their addresses. The parent's reservation (bound,
not listening) keeps ``port: 0`` one port and the port taken while workers restart. The
price: connections still waiting in the accept queue of a worker that dies are reset (the
client sees the connection refused before its request is read, and may retry at once; with
the ``net.ipv4.tcp_migrate_req`` sysctl the kernel moves them to another worker instead).

Which flows a worker runs: worker 0 runs every flow; the others only the flows whose source
scales out (``ComponentSpec.scales_out``: HTTP, an AMQP queue, a NATS queue group...), so a
folder, a table or a timer is polled once.

Supervision: a worker that exits unexpectedly is started again after a growing pause
(0.5 s, doubling up to 10 s; a worker that ran a minute starts afresh). After
:data:`GIVE_UP_AFTER` quick crashes in a row, or at once when a worker cannot start for a
reason a restart will not fix (exit code :data:`CANNOT_START`), the parent stops the others
and exits 1. SIGTERM or SIGINT is forwarded to every worker, which drains as a single
process does; the parent exits 0 when every worker did. SIGHUP (and, with ``--watch``, a
changed file) makes every worker reload the project. A worker whose parent disappears
stops on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from splice.components import registry
from splice.config import FlowSpec, Project, load_project
from splice.errors import NotConnected, SpliceError, TransientError

__all__ = [
    "CANNOT_START",
    "GIVE_UP_AFTER",
    "RESERVED_PORT",
    "STATUS_DIR",
    "WORKER",
    "Plan",
    "Supervisor",
    "WorkerId",
    "configure_logging",
    "for_worker",
    "merge_status",
    "resolve_count",
    "restart_pause",
    "watched_changes",
    "with_http",
]

log = logging.getLogger("splice.workers")

GIVE_UP_AFTER = 5
"""Quick crashes in a row of one worker after which the supervisor gives up."""
CANNOT_START = 3
"""Exit code of a worker that failed to start for a reason a restart will not fix (a
folder it cannot create, a permanent connector error): the supervisor stops at once."""
_FIRST_PAUSE, _LONGEST_PAUSE, _STABLE_AFTER = 0.5, 10.0, 60.0
_HTTP_SOURCES = frozenset({"http", "soap"})
_WATCHED = {("flows",), ("systems",), ("schemas",), ("lookups",)}
WORKER = "SPLICE_WORKER"
"""Environment variable of a worker process: ``index/count/supervisor pid``."""
STATUS_DIR = "SPLICE_STATUS_DIR"
"""Environment variable of a worker process: the folder where every worker leaves its
status snapshot each second, so that any one of them can answer for all."""
RESERVED_PORT = "SPLICE_HTTP_PORT"
"""Environment variable of a worker process: the listening HTTP socket the parent bound.

Both names are read by the HTTP server (``splice.connectors.http.server``), which the
runtime does not import."""


@dataclass(frozen=True)
class WorkerId:
    """Worker ``index`` (0 to ``count - 1``) of ``count``, started by process ``supervisor``."""

    index: int
    count: int
    supervisor: int = 0

    @classmethod
    def from_env(cls) -> WorkerId | None:
        text = os.environ.get(WORKER)
        if not text:
            return None
        index, count, supervisor = [*text.split("/"), "0"][:3]
        return cls(int(index), int(count), int(supervisor))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}/{self.supervisor}"


def configure_logging(level: str, worker: WorkerId | None = None) -> None:
    """Log lines on stderr; a worker's say which worker wrote them."""
    where = f" [worker {worker.index}]" if worker is not None else ""
    logging.basicConfig(
        level=level.upper(), format=f"%(asctime)s %(levelname)s{where} %(name)s: %(message)s"
    )


def watched_changes(directory: Path, stop: asyncio.Event) -> AsyncIterator[object]:
    """Batches of changes to the files a reload reads (flows, systems, schemas, settings)."""
    from watchfiles import awatch

    directory = directory.resolve()

    def relevant(_change: object, path: str) -> bool:
        try:
            relative = Path(path).resolve().relative_to(directory)
        except ValueError:
            return False
        return relative.parts[:1] in _WATCHED or relative.name == "splice.yaml"

    return awatch(directory, watch_filter=relevant, stop_event=stop, step=200)


def resolve_count(value: int | str) -> int:
    """``auto`` is the number of CPUs this process may run on (``taskset`` counts)."""
    if value == "auto":
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            return os.cpu_count() or 1
    return int(value)


def runs_in_every_worker(spec: FlowSpec) -> bool:
    source = spec.source
    return registry.get("source", source.name).runs_in_every_worker(source.config)


def for_worker(project: Project, worker: WorkerId) -> Project:
    """The flows ``worker`` runs: all in worker 0, the scaling-out ones in the others."""
    if worker.index == 0:
        return project
    flows = {name: spec for name, spec in project.flows.items() if runs_in_every_worker(spec)}
    return Project(project.dir, project.settings, flows, project.systems)


def with_http(project: Project, host: str | None, port: int | None) -> Project:
    """``project`` with ``--host`` / ``--port`` applied to its HTTP settings."""
    overrides = {key: value for key, value in (("host", host), ("port", port)) if value is not None}
    if not overrides:
        return project
    http = project.settings.http.model_copy(update=overrides)
    settings = project.settings.model_copy(update={"http": http})
    return Project(project.dir, settings, project.flows, project.systems)


def restart_pause(crashes: int) -> float | None:
    """Seconds to wait before restarting a worker after its ``crashes``-th quick crash in a
    row: 0.5, 1, 2, 4, 8; None after :data:`GIVE_UP_AFTER` (give up)."""
    if crashes > GIVE_UP_AFTER:
        return None
    return float(min(_FIRST_PAUSE * 2.0 ** (crashes - 1), _LONGEST_PAUSE))


_SUMMED = ("received", "acked", "nacked", "dead_lettered", "in_flight", "max_in_flight")


def merge_status(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """One status for the whole run: every worker's counters added up, breakers listed per
    worker, and each worker's own figures under ``workers``. ``snapshots[0]`` answers."""
    flows: dict[str, dict[str, Any]] = {}
    for snapshot in snapshots:
        for name, figures in snapshot["flows"].items():
            total = flows.setdefault(name, {"version": figures["version"]})
            for key in _SUMMED:
                total[key] = total.get(key, 0) + figures[key]
    breakers = [
        {**breaker, "worker": snapshot["worker"]["index"]}
        for snapshot in snapshots
        for breaker in snapshot["breakers"]
    ]
    workers = sorted(
        ({**snapshot["worker"], "flows": snapshot["flows"]} for snapshot in snapshots),
        key=lambda worker: int(worker["index"]),
    )
    head = snapshots[0]
    return {**head, "flows": dict(sorted(flows.items())), "breakers": breakers, "workers": workers}


@dataclass(frozen=True)
class Plan:
    """What every worker is started with (passed as JSON on its command line)."""

    directory: str
    host: str | None
    port: int | None
    log_level: str
    count: int

    def load(self) -> Project:
        return with_http(load_project(Path(self.directory)), self.host, self.port)


@dataclass
class _Slot:
    index: int
    process: asyncio.subprocess.Process | None = None
    started: float = 0.0
    crashes: int = 0


class Supervisor:
    """Starts, watches and stops the worker processes; see the module docstring."""

    def __init__(self, plan: Plan, project: Project, *, watch: bool = False) -> None:
        self.plan = plan
        self.project = project
        self.watch = watch
        self._stopping = asyncio.Event()
        self._failed = False
        self._socket: socket.socket | None = None
        self._status_dir = tempfile.mkdtemp(prefix="splice-workers-")
        self._slots = [_Slot(index) for index in range(plan.count)]

    async def run(self) -> int:
        """Run the workers until a signal (0) or until they keep crashing (1)."""
        loop = asyncio.get_running_loop()
        self._bind()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload)
        watcher = asyncio.create_task(self._watch()) if self.watch else None
        try:
            results = await asyncio.gather(*(self._keep(slot) for slot in self._slots))
        finally:
            if watcher is not None:
                watcher.cancel()
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            if self._socket is not None:
                self._socket.close()
            shutil.rmtree(self._status_dir, ignore_errors=True)
        clean = all(code == 0 for code in results)
        return 1 if self._failed or not clean else 0

    def _bind(self) -> None:
        if not any(spec.source.name in _HTTP_SOURCES for spec in self.project.flows.values()):
            return
        from splice.connectors.http.server import reserve

        http = self.project.settings.http
        self._socket = sock = reserve(http.host, http.port)
        host, port = sock.getsockname()[:2]
        log.info("listening on %s:%d for %d workers", host, port, self.plan.count)

    async def _keep(self, slot: _Slot) -> int:
        """Keep one worker running until stopping; its last exit code (0 when a stop came
        while it waited to be restarted)."""
        while True:
            process = await self._start(slot)
            code = await self._wait(process)
            if self._stopping.is_set():  # killed by the signal before it could handle it: fine
                return 0 if code in (-signal.SIGTERM, -signal.SIGINT) else code
            if not await self._pause_after_crash(slot, code):
                return 1 if self._failed else 0

    async def _start(self, slot: _Slot) -> asyncio.subprocess.Process:
        env = dict(os.environ)
        env[WORKER] = str(WorkerId(slot.index, self.plan.count, os.getpid()))
        env[STATUS_DIR] = self._status_dir
        if self._socket is not None:
            env[RESERVED_PORT] = str(self._socket.getsockname()[1])
        command = [sys.executable, "-m", "splice.runtime.workers", json.dumps(asdict(self.plan))]
        # A session of its own: signals reach a worker from the supervisor only (a Ctrl-C is
        # one orderly drain, a closed terminal does not hang it up), and where the kernel
        # shares CPU time by session (autogroup), each worker counts as one.
        process = await asyncio.create_subprocess_exec(*command, env=env, start_new_session=True)
        slot.process, slot.started = process, time.monotonic()
        log.info("worker %d started (pid %d)", slot.index, process.pid)
        return process

    async def _wait(self, process: asyncio.subprocess.Process) -> int:
        """The worker's exit code; on stopping, forward SIGTERM and give it time to drain."""
        stopping = asyncio.create_task(self._stopping.wait())
        exited = asyncio.create_task(process.wait())
        await asyncio.wait({stopping, exited}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not exited.done():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            grace = self.project.settings.runtime.drain_timeout + 15.0
            try:
                await asyncio.wait_for(asyncio.shield(exited), grace)
            except TimeoutError:
                log.error("worker pid %d did not stop in %.0f s: killed", process.pid, grace)
                process.kill()
        return await exited

    async def _pause_after_crash(self, slot: _Slot, code: int) -> bool:
        """Wait before restarting ``slot``; False when it keeps crashing (stop everything)."""
        lived = time.monotonic() - slot.started
        slot.crashes = 1 if lived >= _STABLE_AFTER else slot.crashes + 1
        pause = restart_pause(slot.crashes) if code != CANNOT_START else None
        if pause is None:
            why = "cannot start" if code == CANNOT_START else f"crashed {slot.crashes} times"
            log.error("worker %d %s (exit code %d): stopping all workers", slot.index, why, code)
            self._failed = True
            self._stopping.set()
            return False
        log.error(
            "worker %d exited with code %d after %.1f s: restarting in %.1f s",
            slot.index,
            code,
            lived,
            pause,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), pause)
        return not self._stopping.is_set()

    def _reload(self) -> None:
        for slot in self._slots:
            process = slot.process
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGHUP)

    async def _watch(self) -> None:
        async for _changes in watched_changes(self.project.dir, self._stopping):
            log.info("project changed: workers reload")
            self._reload()


def supervise(plan: Plan, project: Project, *, watch: bool = False) -> int:
    """Blocking entry point of the parent process; its exit code."""
    return asyncio.run(Supervisor(plan, project, watch=watch).run())


def _main(argv: list[str]) -> None:
    """A worker process: ``python -m splice.runtime.workers '<plan as JSON>'``."""
    from splice.runtime.run import serve_blocking

    plan = Plan(**json.loads(argv[1]))
    worker = WorkerId.from_env()
    assert worker is not None, f"{WORKER} is not set: workers are started by splice run"
    configure_logging(plan.log_level, worker)
    try:
        project = plan.load()
        serve_blocking(project, worker=worker, prepare=lambda p: with_http(p, plan.host, plan.port))
    except (NotConnected, TransientError) as error:  # may work next time: restarted
        log.error("worker %d could not start: %s", worker.index, error)
        sys.exit(1)
    except SpliceError as error:  # will not work next time either
        log.error("worker %d could not start: %s", worker.index, error)
        sys.exit(CANNOT_START)
    except Exception:
        log.exception("worker %d failed", worker.index)
        sys.exit(1)


if __name__ == "__main__":
    _main(sys.argv)
