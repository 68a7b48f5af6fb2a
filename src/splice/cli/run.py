"""``splice run``: run a project's flows until stopped, in one process or N workers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from splice.cli.app import EXIT_BAD_INPUT, EXIT_CONFIG, app, fail
from splice.errors import ConfigError, SpliceError


@app.command("run")
def run(
    directory: Annotated[Path, typer.Argument(help="Project folder.")] = Path("."),
    watch: Annotated[bool, typer.Option("--watch", help="Reload changed flow files.")] = False,
    host: Annotated[str | None, typer.Option(help="Override http.host.")] = None,
    port: Annotated[int | None, typer.Option(help="Override http.port.")] = None,
    workers: Annotated[
        str | None,
        typer.Option(
            help="Worker processes: a number or 'auto' (one per CPU). "
            "Overrides runtime.workers (default 1)."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run every flow of the project until SIGTERM or Ctrl-C (then drain and stop)."""
    from splice.config import load_project
    from splice.runtime.workers import Plan, configure_logging, resolve_count, supervise, with_http

    configure_logging(log_level)
    try:
        project = with_http(load_project(directory), host, port)
    except ConfigError as error:
        fail(str(error), EXIT_CONFIG)
    count = resolve_count(_workers(workers) or project.settings.runtime.workers)
    if count == 1:
        from splice.runtime.run import serve_blocking

        try:
            serve_blocking(project, watch=watch)
        except SpliceError as error:
            fail(f"the project could not start: {error}", EXIT_BAD_INPUT)
        return
    plan = Plan(str(project.dir), host, port, log_level, count)
    try:
        code = supervise(plan, project, watch=watch)
    except SpliceError as error:
        fail(str(error), EXIT_BAD_INPUT)
    raise typer.Exit(code)


def _workers(value: str | None) -> int | str | None:
    """``--workers``: a positive number or ``auto``."""
    if value is None or value == "auto":
        return value
    if value.isdigit() and 1 <= int(value) <= 256:
        return int(value)
    fail(f"--workers must be a number from 1 to 256 or 'auto', not {value!r}", EXIT_CONFIG)
