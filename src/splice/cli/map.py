"""``splice map``: evaluate a JSONata mapping on a JSON document, like ``jq``.

Prints the result as JSON (pretty, two-space indent; ``--compact`` for one line). An
undefined result prints nothing and exits 0; a failing mapping or bad input exits 1; a bad
command line (``--bindings``, ``--lookup``, lookup files) exits 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from splice.cli.app import EXIT_CONFIG, app, fail
from splice.errors import ConfigError, MappingError
from splice.mapping import UNDEFINED, LookupTables, compile_mapping


@app.command("map")
def map_command(
    expression: Annotated[
        str | None, typer.Argument(help="JSONata expression (or use --file).")
    ] = None,
    input_path: Annotated[
        str, typer.Argument(metavar="[INPUT]", help="JSON file; '-' or absent reads stdin.")
    ] = "-",
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the expression from a file.")
    ] = None,
    bindings: Annotated[
        str | None, typer.Option(help="Variables as a JSON object, e.g. '{\"rate\": 1.2}'.")
    ] = None,
    lookup: Annotated[
        list[str] | None, typer.Option(help="A lookup table: name=path.csv (repeatable).")
    ] = None,
    pretty: Annotated[
        bool, typer.Option("--pretty/--compact", help="Indented or one-line output.")
    ] = True,
) -> None:
    """Evaluate a JSONata mapping on a JSON document and print the result."""
    if file is not None:
        if expression is not None:
            input_path = expression
        expression = _read_expression(file)
    if expression is None:
        fail("give an expression or --file", EXIT_CONFIG)
    variables = _parse_bindings(bindings)
    tables = _load_lookups(lookup or [])
    data = _read_input(input_path)
    try:
        result = compile_mapping(expression, lookups=tables).evaluate(data, bindings=variables)
    except MappingError as error:
        fail(str(error))
    if result is not UNDEFINED:
        _print(result, pretty)


def _read_expression(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}", EXIT_CONFIG)


def _parse_bindings(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        fail(f"--bindings is not JSON: {exc}", EXIT_CONFIG)
    if not isinstance(value, dict):
        fail("--bindings must be a JSON object of name: value", EXIT_CONFIG)
    return {str(name).removeprefix("$"): item for name, item in value.items()}


def _load_lookups(specs: list[str]) -> LookupTables | None:
    files: dict[str, str] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            fail(f"--lookup takes name=path, got '{spec}'", EXIT_CONFIG)
        files[name] = path
    if not files:
        return None
    try:
        return LookupTables.load(Path.cwd(), files)
    except ConfigError as error:
        fail(str(error), EXIT_CONFIG)


def _read_input(path: str) -> Any:
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
    if not raw.strip():
        return UNDEFINED
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        name = "stdin" if path == "-" else path
        fail(f"{name} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")


def _print(result: Any, pretty: bool) -> None:
    option = orjson.OPT_INDENT_2 if pretty else 0
    try:
        text = orjson.dumps(result, option=option, default=_not_json)
    except TypeError as exc:
        fail(f"the result is not JSON: {exc}")
    sys.stdout.buffer.write(text + b"\n")
    sys.stdout.flush()


def _not_json(value: Any) -> Any:
    raise TypeError(f"cannot print a {type(value).__name__} (a function?)")
