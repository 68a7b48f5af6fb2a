"""``splice schema``: the schema registry of a project's store, from the command line.

``list``, ``show SUBJECT[@VERSION]``, ``register SUBJECT FILE``, ``check SUBJECT FILE``,
``diff SUBJECT V1 V2``, ``mode SUBJECT [MODE]`` and ``seed`` (register every file of the
project's ``schemas/`` folder). Every command works on the store named by ``splice.yaml``
(``--project DIR``, default ``.``). Exit codes: 0 done, 1 refused / not found / invalid
schema, 2 a bad project or command line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from splice.cli.app import EXIT_BAD_INPUT, EXIT_CONFIG, app, fail
from splice.errors import ConfigError, SpliceError

__all__ = ["schema"]

T = TypeVar("T")
schema = typer.Typer(
    help="Schema registry: list, show, register, check, diff, mode, seed.", no_args_is_help=True
)
app.add_typer(schema, name="schema")

ProjectOption = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder (its splice.yaml names the store).")
]
TypeOption = Annotated[
    str | None,
    typer.Option("--type", "-t", help="json, avro or xsd (default: from the file name)."),
]


def _run(project: Path, work: Callable[..., Awaitable[T]]) -> T:
    """Open the project's store, run ``work(registry)``, close; errors become exit codes."""
    from splice.config import load_settings
    from splice.schemas import IncompatibleSchema, SchemaRegistry
    from splice.store import Store

    async def main() -> T:
        store = await Store.open(load_settings(project).store, project_dir=project)
        try:
            return await work(SchemaRegistry(store.schemas))
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except ConfigError as error:
        fail(str(error), EXIT_CONFIG)
    except IncompatibleSchema as error:
        typer.echo(f"refused: not {error.mode.value} compatible with {error.subject}:")
        for change in error.changes:
            typer.echo(f"  {change}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except SpliceError as error:
        fail(str(error), EXIT_BAD_INPUT)


def _file_type(path: Path, given: str | None) -> str:
    from splice.schemas import SCHEMA_TYPES, subject_for_file

    if given is not None:
        if given not in SCHEMA_TYPES:
            fail(f"--type must be json, avro or xsd, not {given!r}", EXIT_CONFIG)
        return given
    found = subject_for_file(path, path.parent)
    if found is None:
        fail(f"cannot tell the type of {path.name}: use --type json|avro|xsd", EXIT_CONFIG)
    return found[1]


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}", EXIT_CONFIG)


@schema.command("list")
def list_command(project: ProjectOption = Path(".")) -> None:
    """Every subject with its latest version and type."""
    rows = _run(project, lambda registry: registry.list())
    for subject, version, kind in rows:
        typer.echo(f"{subject}  v{version}  {kind}")
    if not rows:
        typer.echo("no schemas registered")


@schema.command("show")
def show(
    reference: Annotated[str, typer.Argument(help="SUBJECT, SUBJECT@VERSION or SUBJECT@latest.")],
    project: ProjectOption = Path("."),
) -> None:
    """Print one version of a schema."""
    found = _run(project, lambda registry: registry.resolve(reference))
    typer.echo(found.text.rstrip("\n"))


@schema.command("register")
def register(
    subject: Annotated[str, typer.Argument(help="Subject, e.g. order or crm.order.")],
    file: Annotated[Path, typer.Argument(help="Schema file.")],
    schema_type: TypeOption = None,
    project: ProjectOption = Path("."),
) -> None:
    """Add a version of SUBJECT; refused (exit 1) when it breaks the subject's mode."""
    kind, text = _file_type(file, schema_type), _read(file)
    done = _run(project, lambda registry: registry.register(subject, text, kind))
    version = done.schema.version
    if done.created:
        typer.echo(f"registered {subject} version {version}")
    else:
        typer.echo(f"{subject} version {version} already holds this schema")


@schema.command("check")
def check(
    subject: Annotated[str, typer.Argument(help="Subject to check against.")],
    file: Annotated[Path, typer.Argument(help="Candidate schema file.")],
    schema_type: TypeOption = None,
    project: ProjectOption = Path("."),
) -> None:
    """Would FILE be accepted as the next version of SUBJECT? Lists the breaking changes."""
    kind, text = _file_type(file, schema_type), _read(file)

    async def work(registry: object) -> tuple[str, list[str]]:
        from splice.schemas import SchemaRegistry

        assert isinstance(registry, SchemaRegistry)
        mode = await registry.mode(subject)
        return mode.value, [str(c) for c in await registry.check(subject, text, kind)]

    mode, breaking = _run(project, work)
    if not breaking:
        typer.echo(f"compatible with {subject} under {mode}")
        return
    typer.echo(f"not {mode} compatible with {subject}:")
    for change in breaking:
        typer.echo(f"  {change}")
    raise typer.Exit(EXIT_BAD_INPUT)


@schema.command("diff")
def diff(
    subject: Annotated[str, typer.Argument(help="Subject.")],
    old: Annotated[int, typer.Argument(help="Older version.")],
    new: Annotated[int, typer.Argument(help="Newer version.")],
    project: ProjectOption = Path("."),
) -> None:
    """Every change from version OLD to NEW, with what it breaks."""
    changes = _run(project, lambda registry: registry.diff(subject, old, new))
    for change in changes:
        typer.echo(f"{change.kind}: {change}")
    if not changes:
        typer.echo("no changes")


@schema.command("mode")
def mode(
    subject: Annotated[str, typer.Argument(help="Subject.")],
    value: Annotated[str | None, typer.Argument(help="New mode, e.g. FULL_TRANSITIVE.")] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Show or set a subject's compatibility mode (default BACKWARD)."""
    from splice.schemas import Compatibility

    if value is not None:
        if value.upper() not in Compatibility.__members__:
            fail(f"unknown mode {value!r} (valid: {', '.join(Compatibility)})", EXIT_CONFIG)
        _run(project, lambda registry: registry.set_mode(subject, value))
    shown = _run(project, lambda registry: registry.mode(subject))
    typer.echo(f"{subject}: {shown.value}")


@schema.command("seed")
def seed(project: ProjectOption = Path(".")) -> None:
    """Register every schema file of the project's schemas/ folder (file name → subject)."""
    folder = project / "schemas"
    if not folder.is_dir():
        fail(f"{folder} is not a folder", EXIT_CONFIG)
    results = _run(project, lambda registry: registry.seed(folder))
    for result in results:
        state = "registered" if result.created else "unchanged"
        typer.echo(f"{result.schema.subject}  v{result.schema.version}  {state}")
