"""Running a project until SIGTERM/SIGINT, optionally reloading changed flow files.

:func:`serve` runs one engine in this process: the whole of ``splice run``, or one worker of
``splice run --workers N`` (then ``worker`` says which; see :mod:`splice.runtime.workers`).
SIGHUP reloads the project as a changed file does under ``--watch``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from splice.config import Project, load_project
from splice.errors import ConfigError
from splice.runtime import status
from splice.runtime.engine import Engine
from splice.runtime.workers import (
    STATUS_DIR,
    WorkerId,
    for_worker,
    merge_status,
    watched_changes,
)
from splice.store import Store

__all__ = ["reload", "serve", "serve_blocking"]

log = logging.getLogger("splice.runtime")

_PUBLISH_EVERY = 1.0
"""Seconds between a worker's status snapshots for the others."""


Prepare = Callable[[Project], Project]


async def serve(
    project: Project,
    *,
    watch: bool = False,
    stop: asyncio.Event | None = None,
    on_started: Callable[[Engine], None] | None = None,
    worker: WorkerId | None = None,
    prepare: Prepare | None = None,
) -> None:
    """Run until ``stop`` is set or a termination signal arrives; then drain and close.

    ``prepare`` is applied to the project loaded again on a reload (command-line overrides).
    """
    stop = stop or asyncio.Event()
    chosen = _chooser(worker, prepare)
    engine = Engine(chosen(project), store=await _worker_store(project, worker))
    tasks: list[asyncio.Task[None]] = []
    installed = _install_signals(stop, lambda: tasks.append(_reload_soon(engine, chosen, worker)))
    try:
        await engine.start()
        # Everything loaded so far (modules, compiled flows) lives as long as the process:
        # move it out of the collector's sight, or every full collection scans it again
        # (~130 ms on a small VM, seen as the p99 of a busy HTTP flow).
        gc.collect()
        gc.freeze()
        _register_status(engine, worker)
        if on_started is not None:
            on_started(engine)
        if watch:
            tasks.append(asyncio.create_task(_watch(engine, stop, chosen, worker)))
        if worker is not None:
            tasks.append(asyncio.create_task(_stop_when_orphaned(stop, worker.supervisor)))
            tasks.append(asyncio.create_task(_publish_status(engine, worker)))
        await stop.wait()
        log.info("stopping: draining in-flight messages")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.stop()
        if worker is not None and engine.store is not None:
            await engine.store.close()
        loop = asyncio.get_running_loop()
        for signum in installed:
            loop.remove_signal_handler(signum)


def _chooser(worker: WorkerId | None, prepare: Prepare | None) -> Prepare:
    """Project -> the project this process runs (overrides applied, this worker's flows)."""

    def choose(project: Project) -> Project:
        project = prepare(project) if prepare is not None else project
        return for_worker(project, worker) if worker is not None else project

    return choose


async def _worker_store(project: Project, worker: WorkerId | None) -> Store | None:
    """A worker's store tags its journal entries (the engine opens its own otherwise)."""
    if worker is None:
        return None
    return await Store.open(
        project.settings.store,
        project_dir=project.dir,
        worker=worker.index,
        workers=worker.count,
    )


def _install_signals(stop: asyncio.Event, on_hangup: Callable[[], None]) -> list[int]:
    loop = asyncio.get_running_loop()
    installed: list[int] = []
    handlers = {signal.SIGTERM: stop.set, signal.SIGINT: stop.set, signal.SIGHUP: on_hangup}
    for signum, handler in handlers.items():
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, handler)
            installed.append(signum)
    return installed


def _reload_soon(engine: Engine, chosen: Prepare, worker: WorkerId | None) -> asyncio.Task[None]:
    log.info("SIGHUP: reloading the project")
    return asyncio.create_task(reload(engine, engine.project.dir, prepare=chosen, worker=worker))


def _register_status(engine: Engine, worker: WorkerId | None) -> None:
    """``GET /_splice/status``; under workers, the whole run's, whichever worker answers."""
    if not status.register(engine) or worker is None:
        return
    from splice.connectors.http.problem import Reply

    async def answer(_scope: Any, _headers: Any, _body: bytes) -> Reply:
        snapshots = [_own_status(engine, worker), *_other_statuses(worker)]
        return Reply(200, orjson.dumps(merge_status(snapshots)), "application/json")

    server: Any = engine.shared.peek("http.server")  # status.register found it
    server.register("GET", status.PATH, answer, owner="_splice")


def _own_status(engine: Engine, worker: WorkerId) -> dict[str, Any]:
    about = {"index": worker.index, "count": worker.count, "pid": os.getpid()}
    return {**status.snapshot(engine), "worker": about}


def _other_statuses(worker: WorkerId) -> list[dict[str, Any]]:
    """The snapshots the other workers left (at most a second old)."""
    folder = os.environ.get(STATUS_DIR)
    found = []
    for index in range(worker.count):
        if folder and index != worker.index:
            with contextlib.suppress(OSError, ValueError):
                found.append(orjson.loads(Path(folder, f"{index}.json").read_bytes()))
    return found


async def _publish_status(engine: Engine, worker: WorkerId) -> None:
    """Leave this worker's snapshot for the others each second (see :func:`_register_status`)."""
    folder = os.environ.get(STATUS_DIR)
    if not folder:
        return
    target = Path(folder, f"{worker.index}.json")
    temporary = target.with_suffix(".tmp")
    while True:
        with contextlib.suppress(OSError):
            temporary.write_bytes(orjson.dumps(_own_status(engine, worker)))
            temporary.replace(target)
        await asyncio.sleep(_PUBLISH_EVERY)


async def _stop_when_orphaned(stop: asyncio.Event, supervisor: int) -> None:
    """A worker whose supervisor died (SIGKILL) drains and stops rather than linger."""
    try:
        parent = os.pidfd_open(supervisor)
    except ProcessLookupError:  # gone already
        parent = -1
    except (AttributeError, OSError):  # not Linux >= 5.3: the worker outlives its parent
        return
    gone = asyncio.Event()
    loop = asyncio.get_running_loop()
    if parent < 0 or os.getppid() != supervisor:  # reparented before the pidfd was open
        gone.set()
    else:
        loop.add_reader(parent, gone.set)
    try:
        await gone.wait()
        log.warning("the supervisor is gone: stopping")
        stop.set()
    finally:
        if parent >= 0:
            loop.remove_reader(parent)
            os.close(parent)


async def _watch(
    engine: Engine, stop: asyncio.Event, chosen: Prepare, worker: WorkerId | None
) -> None:
    async for _changes in watched_changes(engine.project.dir, stop):
        await reload(engine, engine.project.dir, prepare=chosen, worker=worker)


async def reload(
    engine: Engine,
    directory: Path,
    *,
    prepare: Prepare | None = None,
    worker: WorkerId | None = None,
) -> None:
    """Load the project again and apply it; a broken edit keeps the running version.

    ``prepare`` turns the loaded project into the one this process runs (overrides, a
    worker's flows).
    """
    try:
        project = load_project(directory)
    except ConfigError as error:
        log.error("reload refused, the running flows are kept:\n%s", error)
        return
    try:
        for change in await engine.apply(prepare(project) if prepare else project):
            log.info(change)
        _register_status(engine, worker)
    except Exception as error:
        log.error("reload failed, the running flows are kept: %s", error)


def serve_blocking(
    project: Project,
    *,
    watch: bool = False,
    worker: WorkerId | None = None,
    prepare: Prepare | None = None,
) -> None:
    """Blocking entry point of one engine process: uvloop when available."""
    main = serve(project, watch=watch, worker=worker, prepare=prepare)
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)
