"""``splice dlq``: list, show, edit, replay and purge dead letters in the project's store.

Every command works on the store named by ``splice.yaml`` (``--project DIR``, default
``.``). Replaying runs the message through the flow's current version
(:mod:`splice.runtime.replay`); replays, edits and purges are logged with the user's name.
Exit codes: 0 done, 1 a dead letter is unknown or a replay failed, 2 a bad project or
command line.
"""

from __future__ import annotations

import asyncio
import base64
import getpass
import logging
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table

from splice.cli.app import EXIT_BAD_INPUT, EXIT_CONFIG, app, fail
from splice.config import Project, load_project
from splice.errors import ConfigError, SpliceError
from splice.secrets import MASK, is_secret_key, mask

if TYPE_CHECKING:  # the store (SQLAlchemy, Alembic) loads only when a dlq command runs
    from splice.store import DeadLetter, Store

__all__ = ["dlq", "parse_since"]

T = TypeVar("T")
log = logging.getLogger("splice.dlq")
dlq = typer.Typer(help="Dead letters: list, show, edit, replay, purge.", no_args_is_help=True)
app.add_typer(dlq, name="dlq")

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d|w)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PREVIEW_BYTES = 256

ProjectOption = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder (its splice.yaml names the store).")
]
FlowOption = Annotated[str | None, typer.Option("--flow", help="Only this flow's dead letters.")]


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``1h``, ``30m``, ``2d``, ``1w`` ago, or an ISO date/time (UTC when no zone is given)."""
    match = _RELATIVE.match(text.strip())
    if match:
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r}: use a duration like 30m, 1h, 2d, 1w or an ISO date/time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- commands -----------------------------------------------------------------------------


@dlq.callback()
def _log_to_stderr() -> None:
    """Replays, edits and purges are logged (to stderr) with who did them."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("splice").setLevel(logging.INFO)


@dlq.command("list")
def list_command(
    project: ProjectOption = Path("."),
    flow: FlowOption = None,
    since: Annotated[
        str | None, typer.Option(help="Failed since: 1h, 2d, or an ISO date/time.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead.")] = False,
) -> None:
    """List dead letters not purged, newest failure first."""
    try:
        after = parse_since(since) if since is not None else None
    except ValueError as error:
        fail(str(error), EXIT_CONFIG)

    async def work(store: Store) -> list[DeadLetter]:
        return await store.dead_letters.list(flow, after, limit)

    letters = _with_store(project, work)
    if as_json:
        typer.echo(orjson.dumps([_summary(letter) for letter in letters]).decode())
        return
    if not letters:
        typer.echo("no dead letters")
        return
    _console().print(_table(letters))


@dlq.command("show")
def show(
    letter_id: Annotated[str, typer.Argument(metavar="ID", help="Dead letter id.")],
    project: ProjectOption = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="All fields as JSON.")] = False,
) -> None:
    """Show a dead letter: reason, payload, headers and every attempt."""
    letter = _get(project, letter_id)
    if as_json:
        typer.echo(orjson.dumps(_details(letter), option=orjson.OPT_INDENT_2).decode())
        return
    for line in _describe(letter):
        typer.echo(line)


@dlq.command("replay")
def replay(
    letter_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="Dead letter id.")] = None,
    project: ProjectOption = Path("."),
    flow: Annotated[
        str | None, typer.Option("--flow", help="Replay every pending one of this flow.")
    ] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every pending one.")] = False,
) -> None:
    """Run dead letters through their flow's current version again."""
    chosen = sum((letter_id is not None, flow is not None, replay_all))
    if chosen != 1:
        fail("give exactly one of ID, --flow F or --all", EXIT_CONFIG)
    loaded = _load(project)
    ok, failed = asyncio.run(_replay(loaded, letter_id, flow))
    typer.echo(f"{ok} replayed, {failed} failed")
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


@dlq.command("edit")
def edit(
    letter_id: Annotated[str, typer.Argument(metavar="ID", help="Dead letter id.")],
    project: ProjectOption = Path("."),
    body_file: Annotated[
        Path | None, typer.Option("--body-file", help="New payload from this file (no editor).")
    ] = None,
    content_type: Annotated[
        str | None, typer.Option(help="New content type (default: keep it).")
    ] = None,
    then_replay: Annotated[
        bool | None,
        typer.Option("--replay/--no-replay", help="Replay after editing (default: ask)."),
    ] = None,
) -> None:
    """Fix a dead letter's payload ($EDITOR, or --body-file), then replay it."""
    loaded = _load(project)
    letter = _get(project, letter_id, loaded)
    if letter.status == "purged":
        fail(f"dead letter {letter.id} was purged: its payload is gone")
    body = _read_body(body_file) if body_file is not None else _edit_in_editor(letter)
    if body is None:
        typer.echo("payload unchanged")
        return
    new_type = content_type or letter.content_type

    async def update(store: Store) -> None:
        await store.dead_letters.update_payload(letter.id, body, new_type)

    _with_store(project, update, loaded)
    log.info("dead letter %s payload edited by %s", letter.id, getpass.getuser())
    typer.echo(f"edited {letter.id} ({len(body)} bytes)")
    if then_replay is None:
        then_replay = typer.confirm("Replay it now?", default=False)
    if then_replay:
        replay(letter.id, project, None, False)


@dlq.command("purge")
def purge(
    project: ProjectOption = Path("."),
    flow: FlowOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop dead letters (all, or one flow's): their payload is deleted for good."""
    loaded = _load(project)

    async def count(store: Store) -> int:
        return await store.dead_letters.count(flow)

    pending = _with_store(project, count, loaded)
    scope = f"of flow '{flow}'" if flow else "of every flow"
    if pending == 0:
        typer.echo("no dead letters to purge")
        return
    if not yes and not typer.confirm(f"Purge {pending} dead letter(s) {scope}?", default=False):
        typer.echo("nothing purged")
        raise typer.Exit(EXIT_BAD_INPUT)

    async def drop(store: Store) -> int:
        return await store.dead_letters.purge(flow)

    purged = _with_store(project, drop, loaded)
    log.warning("%d dead letter(s) %s purged by %s", purged, scope, getpass.getuser())
    typer.echo(f"purged {purged} dead letter(s) {scope}")


# -- store access -------------------------------------------------------------------------


def _load(directory: Path) -> Project:
    try:
        return load_project(directory)
    except ConfigError as error:
        fail(str(error), EXIT_CONFIG)


def _with_store(
    directory: Path, work: Callable[[Store], Awaitable[T]], project: Project | None = None
) -> T:
    loaded = project or _load(directory)

    async def run() -> T:
        from splice.store import Store

        store = await Store.open(loaded.settings.store, project_dir=loaded.dir)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except SpliceError as error:
        fail(f"the store: {error}")


def _get(directory: Path, letter_id: str, project: Project | None = None) -> DeadLetter:
    async def work(store: Store) -> DeadLetter | None:
        return await store.dead_letters.get(letter_id)

    letter = _with_store(directory, work, project)
    if letter is None:
        fail(f"no dead letter {letter_id!r}")
    return letter


async def _replay(project: Project, letter_id: str | None, flow: str | None) -> tuple[int, int]:
    from splice.runtime.replay import replaying
    from splice.store import Store

    store = await Store.open(project.settings.store, project_dir=project.dir)
    try:
        letters = await _to_replay(store, letter_id, flow)
        ok = failed = 0
        async with replaying(project, store, user=getpass.getuser()) as replayer:
            for letter in letters:
                result = await replayer.replay(letter)
                typer.echo(result.line())
                ok, failed = (ok + 1, failed) if result.ok else (ok, failed + 1)
        return ok, failed
    finally:
        await store.close()


async def _to_replay(store: Store, letter_id: str | None, flow: str | None) -> list[DeadLetter]:
    if letter_id is not None:
        letter = await store.dead_letters.get(letter_id)
        if letter is None:
            fail(f"no dead letter {letter_id!r}")
        return [letter]
    letters = await store.dead_letters.list(flow, None, 1_000_000, status="pending")
    return sorted(letters, key=lambda letter: (letter.first_failure_at, letter.id))


# -- output -------------------------------------------------------------------------------


def _console() -> Console:
    """Rich output; a pipe or a file gets full rows, never columns cut to 80."""
    wide = None if sys.stdout.isatty() else 250
    return Console(highlight=False, width=wide)


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _summary(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "flow": letter.flow,
        "step": letter.step,
        "error_code": letter.error_code,
        "first_failure_at": _time(letter.first_failure_at),
        "last_failure_at": _time(letter.last_failure_at),
        "failures": letter.failure_count,
        "attempts": len(letter.attempts),
        "replays": letter.replay_count,
        "status": letter.status,
    }


def _table(letters: list[DeadLetter]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("ID", "FLOW", "STEP", "ERROR", "FIRST FAILURE", "LAST FAILURE"):
        table.add_column(column, no_wrap=True)
    for column in ("FAILURES", "ATTEMPTS", "REPLAYS"):
        table.add_column(column, justify="right")
    table.add_column("STATUS")
    for letter in letters:
        row = _summary(letter)
        table.add_row(
            *(str(row[key]) for key in ("id", "flow", "step", "error_code")),
            row["first_failure_at"].replace("T", " "),
            row["last_failure_at"].replace("T", " "),
            *(str(row[key]) for key in ("failures", "attempts", "replays", "status")),
        )
    return table


def _headers(headers: dict[str, str]) -> dict[str, str]:
    return {key: MASK if is_secret_key(key) else mask(value) for key, value in headers.items()}


def _payload(letter: DeadLetter) -> dict[str, Any]:
    body = letter.message().body
    if not isinstance(body, bytes | str):
        return {"kind": "data", "text": mask(orjson.dumps(body).decode())}
    raw = body.encode() if isinstance(body, str) else body
    try:
        return {"kind": "text", "size": len(raw), "text": mask(raw.decode("utf-8"))}
    except UnicodeDecodeError:
        head = raw[:_PREVIEW_BYTES]
        return {
            "kind": "binary",
            "size": len(raw),
            "hex": head.hex(" "),
            "base64": base64.b64encode(head).decode(),
            "truncated": len(raw) > _PREVIEW_BYTES,
        }


def _details(letter: DeadLetter) -> dict[str, Any]:
    message = letter.message()
    return {
        **_summary(letter),
        "flow_version": letter.flow_version,
        "error_class": letter.error_class,
        "error_message": mask(letter.error_message),
        "message_id": letter.message_id,
        "correlation_id": letter.correlation_id,
        "content_type": letter.content_type,
        "last_replayed_at": _time(letter.last_replayed_at),
        "payload_edited_at": _time(letter.payload_edited_at),
        "headers": _headers(message.headers),
        "payload": _payload(letter),
        "attempts": [_masked_attempt(attempt) for attempt in letter.attempts],
    }


def _masked_attempt(attempt: dict[str, Any]) -> dict[str, Any]:
    return {key: mask(value) if isinstance(value, str) else value for key, value in attempt.items()}


def _describe(letter: DeadLetter) -> list[str]:
    details = _details(letter)
    lines = [f"{key}: {'-' if details[key] is None else details[key]}" for key in _SHOWN]
    lines.append("headers:")
    lines += [f"  {name}: {value}" for name, value in sorted(details["headers"].items())]
    lines += _payload_lines(details["payload"])
    lines.append(f"attempts: {len(letter.attempts)}")
    for number, attempt in enumerate(details["attempts"], 1):
        fields = ", ".join(f"{key}={value}" for key, value in attempt.items())
        lines.append(f"  {number}. {fields}")
    return lines


_SHOWN = (
    "id", "flow", "flow_version", "step", "status", "error_class", "error_code",
    "error_message", "message_id", "correlation_id", "content_type", "first_failure_at",
    "last_failure_at", "failures", "replays", "last_replayed_at", "payload_edited_at",
)  # fmt: skip
"""The fields ``show`` prints first, in this order (then headers, payload, attempts)."""


def _payload_lines(payload: dict[str, Any]) -> list[str]:
    if payload["kind"] == "binary":
        more = " ..." if payload["truncated"] else ""
        return [
            f"payload: {payload['size']} bytes, not UTF-8",
            f"  hex: {payload['hex']}{more}",
            f"  base64: {payload['base64']}{more}",
        ]
    size = f", {payload['size']} bytes" if "size" in payload else ""
    return [f"payload ({payload['kind']}{size}):", *payload["text"].splitlines()]


# -- editing ------------------------------------------------------------------------------


def _read_body(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}", EXIT_CONFIG)


def _edit_in_editor(letter: DeadLetter) -> bytes | None:
    """Open $VISUAL/$EDITOR on the payload; None when it was left unchanged."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        fail("set $EDITOR, or give the new payload with --body-file", EXIT_CONFIG)
    body = letter.message().body
    original = body if isinstance(body, bytes) else _as_bytes(body)
    with tempfile.TemporaryDirectory(prefix="splice-dlq-") as folder:
        path = Path(folder) / f"{letter.id}.payload"
        path.write_bytes(original)
        done = subprocess.run([*shlex.split(editor), str(path)], check=False)
        if done.returncode != 0:
            fail(f"the editor exited with {done.returncode}; payload unchanged")
        edited = path.read_bytes()
    return None if edited == original else edited


def _as_bytes(body: object) -> bytes:
    return body.encode() if isinstance(body, str) else orjson.dumps(body)
