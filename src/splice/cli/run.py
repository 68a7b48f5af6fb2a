"""``splice run``: run a project's flows until stopped."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from splice.cli.app import EXIT_CONFIG, app, fail
from splice.errors import ConfigError


@app.command("run")
def run(
    directory: Annotated[Path, typer.Argument(help="Project folder.")] = Path("."),
    watch: Annotated[bool, typer.Option("--watch", help="Reload changed flow files.")] = False,
    host: Annotated[str | None, typer.Option(help="Override http.host.")] = None,
    port: Annotated[int | None, typer.Option(help="Override http.port.")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run every flow of the project until SIGTERM or Ctrl-C (then drain and stop)."""
    from splice.config import load_project
    from splice.runtime.run import serve_blocking

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        project = load_project(directory)
    except ConfigError as error:
        fail(str(error), EXIT_CONFIG)
    overrides = {key: value for key, value in (("host", host), ("port", port)) if value}
    if overrides:
        settings = project.settings.model_copy(
            update={"http": project.settings.http.model_copy(update=overrides)}
        )
        project = type(project)(project.dir, settings, project.flows, project.systems)
    serve_blocking(project, watch=watch)
