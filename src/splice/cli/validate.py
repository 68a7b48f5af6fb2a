"""``splice validate``: check a project's files and list every problem with its place.

Prints ``ok: N flows, M systems`` and exits 0, or one ``file:line:column: message`` line per
problem (files relative to the current folder when possible) and exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from splice.cli.app import EXIT_CONFIG, app
from splice.errors import ConfigError, ConfigProblem


@app.command("validate")
def validate(
    directory: Annotated[Path, typer.Argument(help="Project folder.")] = Path("."),
) -> None:
    """Check splice.yaml, systems/ and flows/ of a project; list every problem found."""
    from splice.config import load_project

    try:
        project = load_project(directory)
    except ConfigError as error:
        for problem in error.problems:
            typer.echo(_line(problem))
        count = len(error.problems)
        typer.echo(f"found {count} problem{_s(count)}")
        raise typer.Exit(EXIT_CONFIG) from None
    flows, systems = len(project.flows), len(project.systems)
    typer.echo(f"ok: {flows} flow{_s(flows)}, {systems} system{_s(systems)}")


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _line(problem: ConfigProblem) -> str:
    path = Path(problem.file)
    try:
        shown = str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = problem.file
    return str(ConfigProblem(shown, problem.line, problem.column, problem.message))
