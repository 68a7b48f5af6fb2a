"""Scenario 4: file batch. A generated CSV of BENCH_CSV_ROWS rows (default 1,000,000, about
100 MB) converted to JSON lines and to XML: rows/s and peak RSS, pinned to core 0.

Streaming check: both conversions run again on a file 10x larger (BENCH_CSV_MULTIPLIER); a
streaming path has about the same peak RSS. ``splice convert`` is used when the CLI has it;
otherwise the same codec path (csv iter_decode -> write_records) runs through
bench/scenarios/csv_peers/convert_codecs.py and the scenario says so.

Flow: the first BENCH_CSV_FLOW_ROWS rows (default 50,000; 0 skips it) go through a flow,
file source ``records: csv`` -> ``encode: jsonl`` -> file sink append (``fsync: false``), run
by an engine in a child process (``csv_batch.py flow PROJECT``): rows/s once the engine
runs (and with its start), and peak RSS. Every record is a message through the runtime, so
this measures the runtime's per-message cost; memory must stay flat.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lib import BENCH, PEERS, SERVER_CORE, SPLICE, VENV_PY, log, pinned

ID = "csv-batch"
DATA = PEERS / "data"
ROWS = int(os.environ.get("BENCH_CSV_ROWS", "1000000"))
BIG = int(os.environ.get("BENCH_CSV_MULTIPLIER", "10"))
HEADER = "order_id,line,sku,description,qty,unit_price,currency,customer_id,order_date,warehouse\n"
WORDS = [
    "bolt",
    "nut",
    "washer",
    "cable tie",
    "gloves",
    "drill bit",
    "hinge",
    "bracket",
    "screw",
    "anchor",
    "sealant",
    "tape",
]


def generate(path: Path, rows: int) -> Path:
    """A deterministic order-line CSV, about 100 bytes a row."""
    if path.exists() and path.stat().st_size > 0:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(7)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", buffering=1 << 20) as out:
        out.write(HEADER)
        chunk: list[str] = []
        for i in range(rows):
            word = WORDS[i % len(WORDS)]
            chunk.append(
                f"ORD-2026-{i // 5:07d},{i % 5 + 1},SKU-{rnd.randrange(10000, 99999)},"
                f'"{word.title()}, zinc plated M{rnd.randrange(4, 20)}",{rnd.randrange(1, 1000)},'
                f"{rnd.randrange(1, 99999) / 100:.2f},EUR,CUST-{rnd.randrange(10000, 99999)},"
                f"2026-11-{i % 28 + 1:02d},WH-{i % 7}\n"
            )
            if len(chunk) == 10000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
    tmp.rename(path)
    return path


FLOW_ROWS = int(os.environ.get("BENCH_CSV_FLOW_ROWS", "50000"))
FLOW = """\
integration: csv-batch
source: {file: {path: inbox, poll_interval: 50ms, records: csv}}
steps:
  - encode: jsonl
sinks:
  out: {file: {path: out, name: "{headers[file.name]}.jsonl", mode: append, fsync: false}}
"""
MEMORY_CAP = int(os.environ.get("BENCH_MEMORY_CAP_GB", "8")) << 30


def _cap_memory() -> None:
    """A non-streaming conversion fails at the cap instead of exhausting the shared machine."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def has_convert() -> bool:
    r = subprocess.run([SPLICE, "convert", "--help"], capture_output=True, text=True)
    return r.returncode == 0


def convert(src: Path, dst_format: str, use_cli: bool, startup: float = 0.0) -> dict[str, Any]:
    """One conversion; rows/s leave out ``startup`` (the same conversion of an empty file).

    The output goes to a pipe that this process reads and counts (on the other core), so the
    figure is the converter's, not the disk's: a 10x JSON lines file is 2.3 GB, more than the
    page cache takes before writes are throttled.
    """
    if use_cli:
        cmd = [SPLICE, "convert", "--from", "csv", "--to", dst_format, str(src)]
    else:
        cmd = [
            VENV_PY,
            str(BENCH / "scenarios" / "csv_peers" / "convert_codecs.py"),
            "csv",
            dst_format,
            str(src),
            "/dev/stdout",
        ]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            pinned(cmd, SERVER_CORE), stdout=subprocess.PIPE, stderr=err, preexec_fn=_cap_memory
        )
        assert proc.stdout is not None
        out_size = 0
        while chunk := proc.stdout.read(1 << 20):
            out_size += len(chunk)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[-5:])} failed ({proc.returncode}): {stderr[-500:]}")
    rows = _rows(src)
    # subtract start-up only when the conversion itself dominates (tiny files are noise)
    net = seconds - startup if seconds > 3 * startup else seconds
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / net,
        "rows_per_s_with_startup": rows / seconds,
        "startup_s": startup,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "in_mb": src.stat().st_size / 1e6,
        "out_mb": out_size / 1e6,
    }


def _rows(path: Path) -> int:
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1


def run() -> dict[str, Any]:
    use_cli = has_convert()
    small = generate(DATA / f"orders-{ROWS}.csv", ROWS)
    log(
        f"{small.name}: {small.stat().st_size / 1e6:.0f} MB; splice convert "
        f"{'present' if use_cli else 'absent: codec-level stand-in'}"
    )
    runs: dict[str, Any] = {}
    empty = DATA / "orders-0.csv"
    empty.write_text(HEADER)
    startup = {
        fmt: statistics.median(convert(empty, fmt, use_cli)["seconds"] for _ in range(3))
        for fmt in ("jsonl", "xml")
    }
    log(f"start-up + empty conversion: {startup}")
    for fmt in ("jsonl", "xml"):
        try:
            runs[fmt] = convert(small, fmt, use_cli, startup[fmt])
            run = runs[fmt]
            log(f"csv -> {fmt}: {run['rows_per_s']:.0f} rows/s, peak {run['peak_rss_mb']:.0f} MB")
        except Exception as error:
            runs[fmt] = {"error": str(error)}
            log(f"csv -> {fmt} failed: {error}")
    big = generate(DATA / f"orders-{ROWS * BIG}.csv", ROWS * BIG)
    for fmt in ("jsonl", "xml"):
        key = f"{fmt}-{BIG}x"
        try:
            runs[key] = convert(big, fmt, use_cli, startup[fmt])
            log(
                f"csv -> {fmt} {BIG}x: {runs[key]['rows_per_s']:.0f} rows/s, "
                f"peak {runs[key]['peak_rss_mb']:.0f} MB"
            )
        except Exception as error:
            runs[key] = {"error": str(error)}
            log(f"csv -> {fmt} {BIG}x failed: {error}")
    if FLOW_ROWS:
        try:
            runs["flow"] = flow(small, min(FLOW_ROWS, ROWS))
            log(_flow_note(runs["flow"]))
        except Exception as error:
            runs["flow"] = {"error": str(error)}
            log(f"flow failed: {error}")
    by_format = {
        fmt: _streams(runs.get(fmt, {}), runs.get(f"{fmt}-{BIG}x", {})) for fmt in ("jsonl", "xml")
    }
    streaming = None if None in by_format.values() else all(by_format.values())
    j1 = runs.get("jsonl", {})
    notes = [
        "via `splice convert`"
        if use_cli
        else "`splice convert` does not exist yet: measured the codec path it would use "
        "(csv iter_decode -> write_records) via bench/scenarios/csv_peers/convert_codecs.py",
        *(
            _note(fmt, runs.get(fmt, {}), runs.get(f"{fmt}-{BIG}x", {}), s)
            for fmt, s in by_format.items()
        ),
        f"runs are capped at {MEMORY_CAP >> 30} GB address space",
        "rows/s exclude the process start-up (median of 3 conversions of an empty file, "
        f"{startup['jsonl']:.1f}s)",
        _flow_note(runs.get("flow", {})),
        "no peer for this scenario",
    ]
    return {
        "id": ID,
        "metric": "rows/s",
        "splice": j1.get("rows_per_s"),
        "ceiling": None,
        "rows_per_s": {k: v.get("rows_per_s") for k, v in runs.items()},
        "peak_rss_mb": {
            "splice": j1.get("peak_rss_mb"),
            **{k: v.get("peak_rss_mb") for k, v in runs.items()},
        },
        "streaming": streaming,
        "streaming_by_format": by_format,
        "targets": {"rows/s csv->jsonl": 200000, "peak 10x / 1x": 1.0},
        "details": runs,
        "notes": "; ".join(notes),
    }


def _streams(one: dict[str, Any], big: dict[str, Any]) -> bool | None:
    """Same peak RSS (within 25% + 10 MB) for 1x and the larger file: constant memory."""
    if "peak_rss_mb" not in one or "peak_rss_mb" not in big:
        return None
    return bool(big["peak_rss_mb"] <= 1.25 * one["peak_rss_mb"] + 10)


def _note(fmt: str, one: dict[str, Any], big: dict[str, Any], streams: bool | None) -> str:
    verdict = {True: "streams (constant memory)", False: "does NOT stream", None: "unknown"}
    nan = float("nan")
    return (
        f"{fmt}: {one.get('rows_per_s', nan):,.0f} rows/s 1x, {big.get('rows_per_s', nan):,.0f} "
        f"rows/s {BIG}x; peak RSS 1x {one.get('peak_rss_mb', nan):.0f} MB vs {BIG}x "
        f"{big.get('peak_rss_mb', nan):.0f} MB -> {verdict[streams]}"
    )


def flow(src: Path, rows: int) -> dict[str, Any]:
    """The first ``rows`` rows through a records flow, in a pinned child process."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "splice.yaml").write_text("")
        (project / "flows").mkdir()
        (project / "flows" / "csv-batch.yaml").write_text(FLOW)
        (project / "inbox").mkdir()
        with src.open() as whole, (project / "inbox" / "orders.csv").open("w") as part:
            part.writelines(itertools.islice(whole, rows + 1))
        cmd = [VENV_PY, str(Path(__file__).resolve()), "flow", str(project)]
        start = time.perf_counter()
        with tempfile.TemporaryFile() as err:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCH), *sys.path])}
            proc = subprocess.Popen(
                pinned(cmd, SERVER_CORE),
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
                preexec_fn=_cap_memory,
            )
            assert proc.stdout is not None
            report = proc.stdout.read()
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            err.seek(0)
            stderr = err.read().decode(errors="replace")
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"flow failed: {stderr[-500:]}")
        written = sum(1 for _ in (project / "out" / "orders.csv.jsonl").open())
    running = json.loads(report)["seconds"]
    return {
        "rows": rows,
        "written": written,
        "seconds": seconds,
        "running_s": running,
        "rows_per_s": rows / running,
        "rows_per_s_with_startup": rows / seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }


def _flow_note(result: dict[str, Any]) -> str:
    if "rows_per_s" not in result:
        return f"flow: {result.get('error', 'skipped (BENCH_CSV_FLOW_ROWS=0)')}"
    return (
        f"flow (file records: csv -> encode jsonl -> file append, fsync off): "
        f"{result['rows_per_s']:,.0f} rows/s over {result['rows']:,} rows once the engine runs "
        f"({result['rows_per_s_with_startup']:,.0f} with its start), peak RSS "
        f"{result['peak_rss_mb']:.0f} MB, {result['written']:,} lines written"
    )


async def _run_flow(project: Path) -> None:
    """Child process: run the project's engine until its one file is done."""
    from splice.config import load_project
    from splice.runtime.engine import Engine

    engine = Engine(load_project(project))
    await engine.start()
    started = time.perf_counter()
    inbox = project / "inbox"
    try:
        while not (inbox / "done" / "orders.csv").exists():
            if (inbox / "failed").exists() and any((inbox / "failed").iterdir()):
                raise SystemExit(f"the file was refused: {list((inbox / 'failed').iterdir())}")
            await asyncio.sleep(0.05)
        print(json.dumps({"seconds": time.perf_counter() - started}))
    finally:
        await engine.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["flow"]:
        asyncio.run(_run_flow(Path(sys.argv[2])))
    else:
        print(json.dumps(run(), indent=2))
