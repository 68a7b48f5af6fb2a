"""``splice convert``: turn a document from one format into another, like the steps do.

``splice convert --from csv --to jsonl orders.csv`` reads a file (or standard input with
``-`` or no argument) and writes standard output (or ``--output``). When both formats are
record-oriented (csv, jsonl, xml, EDI) the file streams record by record in constant
memory; XML records are the children of the root element, so XML to XML converts the
whole document instead (keeping the root). Output ends with a newline. Exit codes: 0 done,
1 bad input (the message names the position), 2 unknown format or bad option.
"""

from __future__ import annotations

import contextlib
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Annotated, Any, BinaryIO, cast

import typer
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from splice.cli.app import EXIT_BAD_INPUT, EXIT_CONFIG, app, fail
from splice.codecs import Codec, get_codec
from splice.components.registry import UnknownComponent
from splice.errors import ConfigError, SpliceError

__all__ = ["convert_command", "parse_options"]

_BUFFER = 1 << 20


@app.command("convert")
def convert_command(
    from_format: Annotated[str, typer.Option("--from", help="Input format (json, csv, xml, ...).")],
    to_format: Annotated[str, typer.Option("--to", help="Output format.")],
    input_path: Annotated[
        str, typer.Argument(metavar="[FILE]", help="Input file; '-' or absent reads stdin.")
    ] = "-",
    from_option: Annotated[
        list[str] | None,
        typer.Option("--from-option", help="Input codec option key=value (repeatable)."),
    ] = None,
    to_option: Annotated[
        list[str] | None,
        typer.Option("--to-option", help="Output codec option key=value (repeatable)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Convert a document between formats (json, jsonl, xml, csv, yaml, text, EDI)."""
    source = _codec(from_format, from_option)
    target = _codec(to_format, to_option)
    name = "stdin" if input_path == "-" else input_path
    with ExitStack() as stack:
        inp = _open(stack, input_path, "rb", name)
        out = _open(stack, str(output) if output else "-", "wb", str(output))
        try:
            _convert(source, target, inp, out)
            out.flush()
        except SpliceError as error:
            fail(f"{name}: {error}", EXIT_BAD_INPUT)
        except OSError as error:
            fail(f"{name}: {error.strerror or error}", EXIT_BAD_INPUT)


def _convert(source: Codec, target: Codec, inp: BinaryIO, out: BinaryIO) -> None:
    same_document = source.name == target.name and not source.records_keep_document
    if source.supports_records and target.supports_records and not same_document:
        records = source.iter_decode(inp)
        try:
            target.write_records(records, out)
        finally:
            getattr(records, "close", lambda: None)()  # while its input is still open
        return
    encoded = target.encode(source.decode(inp.read()))
    out.write(encoded if encoded.endswith(b"\n") or not encoded else encoded + b"\n")


def _codec(name: str, options: list[str] | None) -> Codec:
    try:
        return get_codec(name, parse_options(options or []), base_dir=Path.cwd())
    except (UnknownComponent, ConfigError) as error:
        fail(str(error).replace("unknown codec", "unknown format"), EXIT_CONFIG)


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``["delimiter=;", "header=false"]`` → ``{"delimiter": ";", "header": False}``."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, equals, raw = pair.partition("=")
        if not equals or not key.strip():
            fail(f"option '{pair}' is not key=value", EXIT_CONFIG)
        options[key.strip()] = _scalar(raw)
    return options


def _scalar(raw: str) -> Any:
    """A YAML scalar (``false``, ``3``, ``[a, b]``); text that YAML reads as nothing stays text."""
    try:
        value = YAML(typ="safe", pure=True).load(raw)
    except YAMLError:
        return raw
    if value is None and raw.strip() not in ("null", "~"):
        return raw
    return value


def _open(stack: ExitStack, path: str, mode: str, name: str) -> BinaryIO:
    """A file, or stdin/stdout, with a large buffer: record by record I/O stays cheap."""
    if path == "-":
        return _standard(stack, sys.stdin if mode == "rb" else sys.stdout, mode)
    try:
        return cast(BinaryIO, stack.enter_context(open(path, mode, buffering=_BUFFER)))
    except OSError as error:
        fail(f"cannot {'read' if mode == 'rb' else 'write'} {name}: {error.strerror or error}")


def _standard(stack: ExitStack, stream: Any, mode: str) -> BinaryIO:
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a test runner: no descriptor
        return cast(BinaryIO, stream.buffer)
    stream.flush()
    handle = open(descriptor, mode, buffering=_BUFFER, closefd=False)  # noqa: SIM115 - closed quietly
    stack.callback(_close_quietly, handle)
    return cast(BinaryIO, handle)


def _close_quietly(handle: IO[Any]) -> None:
    """After an error was reported: a reader gone away (a closed pipe) is no second error."""
    with contextlib.suppress(OSError):
        handle.close()
