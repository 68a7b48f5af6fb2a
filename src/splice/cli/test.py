"""``splice test``: run a project's flow tests (``tests/*.yaml``) and, with ``--fuzz``, fuzz it.

Prints ``PASS``/``FAIL`` per case (with a diff under each failure), then ``N passed, M
failed`` alone on a line. Exits 1 when a case fails or fuzzing finds an unhandled error,
2 when the project or a test file is wrong (every problem listed with its place), else 0.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from splice.cli.app import EXIT_BAD_INPUT, EXIT_CONFIG, app
from splice.cli.validate import _line
from splice.errors import ConfigError


@app.command("test")
def flow_tests(
    directory: Annotated[Path, typer.Argument(help="Project folder.")] = Path("."),
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write the results as JUnit XML here.")
    ] = None,
    fuzz: Annotated[
        int, typer.Option("--fuzz", min=0, help="Also try N generated inputs on each flow.")
    ] = 0,
) -> None:
    """Run the flow tests of a project; optionally fuzz its flows with generated inputs."""
    from splice.flowtest._report import junit_xml, summary, text_lines
    from splice.flowtest._suite import load_suite, run_files

    try:
        project, files = load_suite(directory)
        results = asyncio.run(run_files(project, files))
    except ConfigError as error:
        for problem in error.problems or []:
            typer.echo(_line(problem))
        if not error.problems:
            typer.echo(f"error: {error}")
        raise typer.Exit(EXIT_CONFIG) from None
    for line in text_lines(results):
        typer.echo(line)
    passed, failed = summary(results)
    if junit is not None:
        junit.write_bytes(junit_xml(results))
    unhandled = _fuzz(project, fuzz) if fuzz else 0
    typer.echo(f"{passed} passed, {failed} failed")
    if failed or unhandled:
        raise typer.Exit(EXIT_BAD_INPUT)


def _fuzz(project: object, examples: int) -> int:
    from splice.config import Project
    from splice.flowtest._fuzz import fuzz_project

    assert isinstance(project, Project)
    reports = asyncio.run(fuzz_project(project, examples))
    unhandled = 0
    for report in reports:
        typer.echo(report.headline())
        for finding in report.findings:
            typer.echo(f"    {finding}")
        unhandled += len(report.findings)
    return unhandled
