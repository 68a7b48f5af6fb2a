"""``splice init``: scaffold a working project (the quickstart) into a new folder."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from splice.cli.app import EXIT_CONFIG, app, fail

_SKIP = {"outbox", "audit", ".splice", "__pycache__"}


def template_dir() -> Path:
    """The quickstart shipped in the wheel, or the repository's copy in a checkout."""
    packaged = Path(str(files("splice"))) / "scaffold" / "quickstart"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "examples" / "quickstart"


@app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create (must be empty or new).")],
) -> None:
    """Create a project folder with a working flow pair (HTTP order in, XML out, audit)."""
    if directory.exists() and any(directory.iterdir()):
        fail(f"{directory} is not empty; choose a new folder", EXIT_CONFIG)
    source = template_dir()
    shutil.copytree(
        source,
        directory,
        dirs_exist_ok=True,
        ignore=lambda _dir, names: [name for name in names if name in _SKIP],
    )
    typer.echo(f"created {directory}: run it with `splice run {directory}`")
