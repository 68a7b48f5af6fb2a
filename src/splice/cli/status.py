"""``splice status``: what the store knows per flow, and a running engine's live state.

Without ``--url``: per flow of the project, dead letters pending, journal entries not yet
delivered and aggregation groups still open, read from the project's store. With
``--url http://HOST:PORT``: also the engine's counters, messages in flight and circuit
breakers, from its ``GET /_splice/status``. Exit codes: 0, 1 the engine cannot be reached,
2 a bad project.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from splice.cli.app import EXIT_BAD_INPUT, EXIT_CONFIG, app, fail
from splice.errors import ConfigError, SpliceError

__all__ = ["status"]


@app.command("status")
def status(
    directory: Annotated[Path, typer.Argument(help="Project folder.")] = Path("."),
    url: Annotated[
        str | None, typer.Option(help="A running engine, e.g. http://127.0.0.1:8080.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead.")] = False,
) -> None:
    """Show dead letters, journal and open groups per flow (and the engine's, with --url)."""
    from splice.config import load_project

    try:
        project = load_project(directory)
    except ConfigError as error:
        fail(str(error), EXIT_CONFIG)
    report: dict[str, Any] = {"store": _store_part(project)}
    if url is not None:
        report["engine"] = _fetch(url)
    if as_json:
        typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 250)
    console.print(_store_table(report["store"]))
    if "engine" in report:
        console.print(_engine_table(report["engine"]["flows"]))
        console.print(_breaker_table(report["engine"]["breakers"]))


def _store_part(project: Any) -> dict[str, dict[str, int]]:
    from splice.runtime.status import store_status
    from splice.store import Store

    async def read() -> dict[str, dict[str, int]]:
        store = await Store.open(project.settings.store, project_dir=project.dir)
        try:
            return await store_status(store, sorted(project.flows))
        finally:
            await store.close()

    try:
        return asyncio.run(read())
    except SpliceError as error:
        fail(f"the store: {error}")


def _fetch(url: str) -> dict[str, Any]:
    import httpx

    from splice.runtime.status import PATH

    try:
        reply = httpx.get(url.rstrip("/") + PATH, timeout=5.0)
    except httpx.HTTPError as error:
        fail(f"cannot reach the engine at {url}: {error}", EXIT_BAD_INPUT)
    if reply.status_code != 200:
        fail(f"{url}{PATH} answered {reply.status_code}", EXIT_BAD_INPUT)
    answer: dict[str, Any] = reply.json()
    return answer


def _table(*columns: str) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column(columns[0], no_wrap=True)
    for column in columns[1:]:
        table.add_column(column, justify="right", no_wrap=True)
    return table


def _store_table(flows: dict[str, dict[str, int]]) -> Table:
    table = _table("FLOW", "DEAD LETTERS", "JOURNAL", "OPEN GROUPS")
    for name, counts in flows.items():
        table.add_row(
            name, *(str(counts[key]) for key in ("dead_letters", "journal", "open_groups"))
        )
    return table


def _engine_table(flows: dict[str, dict[str, Any]]) -> Table:
    keys = ("received", "acked", "nacked", "dead_lettered", "in_flight")
    table = _table("FLOW", "VERSION", *(key.upper().replace("_", " ") for key in keys))
    for name, counts in flows.items():
        table.add_row(name, str(counts["version"]), *(str(counts[key]) for key in keys))
    return table


def _breaker_table(breakers: list[dict[str, Any]]) -> Table:
    table = _table("ENDPOINT", "STATE", "FAILURES", "OPEN FOR", "NEXT PROBE IN")
    for breaker in breakers:
        table.add_row(
            breaker["endpoint"],
            breaker["state"],
            str(breaker["failures"]),
            _seconds(breaker["open_for"]),
            _seconds(breaker["next_probe_in"]),
        )
    return table


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"
