"""Running a project until SIGTERM/SIGINT, optionally reloading changed flow files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from pathlib import Path

from splice.config import Project, load_project
from splice.errors import ConfigError
from splice.runtime import status
from splice.runtime.engine import Engine

__all__ = ["reload", "serve", "serve_blocking"]

log = logging.getLogger("splice.runtime")

_WATCHED = {("flows",), ("systems",), ("schemas",), ("lookups",)}


async def serve(
    project: Project,
    *,
    watch: bool = False,
    stop: asyncio.Event | None = None,
    on_started: Callable[[Engine], None] | None = None,
) -> None:
    """Run until ``stop`` is set or a termination signal arrives; then drain and close."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
    engine = Engine(project)
    watcher: asyncio.Task[None] | None = None
    try:
        await engine.start()
        status.register(engine)
        if on_started is not None:
            on_started(engine)
        if watch:
            watcher = asyncio.create_task(_watch(engine, stop))
        await stop.wait()
        log.info("stopping: draining in-flight messages")
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await engine.stop()
        for signum in installed:
            loop.remove_signal_handler(signum)


async def _watch(engine: Engine, stop: asyncio.Event) -> None:
    from watchfiles import awatch

    directory = engine.project.dir

    def relevant(_change: object, path: str) -> bool:
        relative = Path(path).relative_to(directory)
        return relative.parts[:1] in _WATCHED or relative.name == "splice.yaml"

    async for _changes in awatch(directory, watch_filter=relevant, stop_event=stop, step=200):
        await reload(engine, directory)


async def reload(engine: Engine, directory: Path) -> None:
    """Load the project again and apply it; a broken edit keeps the running version."""
    try:
        project = load_project(directory)
    except ConfigError as error:
        log.error("reload refused, the running flows are kept:\n%s", error)
        return
    try:
        for change in await engine.apply(project):
            log.info(change)
        status.register(engine)
    except Exception as error:
        log.error("reload failed, the running flows are kept: %s", error)


def serve_blocking(project: Project, *, watch: bool = False) -> None:
    """Blocking entry point for ``splice run``: uvloop when available."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(project, watch=watch))
    else:
        uvloop.run(serve(project, watch=watch))
