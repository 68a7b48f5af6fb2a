"""``splice docs``: write the reference docs generated from the component registry.

``--check`` writes nothing and exits 1 when a committed file differs from what would be
generated (run ``splice docs`` to update them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from splice.cli.app import EXIT_BAD_INPUT, app, err_console


@app.command("docs")
def docs(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder of the reference docs.")
    ] = Path("docs/reference"),
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the files are not up to date.")
    ] = False,
) -> None:
    """Generate sources.md, sinks.md, steps.md, codecs.md and flow.schema.json."""
    from splice import docsgen

    for problem in docsgen.unavailable():
        err_console.print(f"warning: not documented: {problem}", markup=False)
    if check:
        stale = docsgen.stale(output)
        for name in stale:
            typer.echo(f"stale: {output / name} (run `splice docs`)")
        if stale:
            raise typer.Exit(EXIT_BAD_INPUT)
        typer.echo(f"ok: {output} is up to date")
        return
    for path in docsgen.write(output):
        typer.echo(f"wrote {path}")
