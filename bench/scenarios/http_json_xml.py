"""Scenario 1: HTTP JSON -> validate -> map -> XML, synchronous reply.

splice (bench/projects/http-json-xml), Node-RED 4.1 (the shared flow: http in -> xml ->
http response, no validation or mapping, which flatters it) and the hand-written ceiling
(bench/ceiling/http_json_xml.py). Each server is pinned to core 0, wrk to core 1.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from typing import Any

import setup_peers
from lib import BENCH, FIXTURES, PEERS, SPLICE, VENV_PY, Server, free_port, load_test, log

ID = "http-json-xml"
ORDER = (FIXTURES / "order.json").read_bytes()


def splice_server(port: int, name: str = "splice") -> Server:
    return Server(
        name,
        [
            SPLICE,
            "run",
            str(BENCH / "projects" / "http-json-xml"),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        log_path=PEERS / "logs" / f"{name}-{ID}.log",
    )


def nodered_server(
    port: int,
    flow: str = "http-json-to-xml.json",
    edit: Callable[[list[dict[str, Any]]], None] | None = None,
) -> Server:
    """Node-RED serving the shared ``flow``, changed by ``edit`` (on the parsed nodes) if given."""
    user_dir = PEERS / "nodered-user"
    if user_dir.exists():
        shutil.rmtree(user_dir)
    user_dir.mkdir(parents=True)
    flows = user_dir / "flows.json"
    nodes = json.loads((FIXTURES / "nodered" / flow).read_text())
    if edit is not None:
        edit(nodes)
    flows.write_text(json.dumps(nodes, indent=1))
    # link the contrib nodes (amqp) into the user dir so Node-RED finds them
    (user_dir / "node_modules").symlink_to(PEERS / "node" / "node_modules")
    settings = user_dir / "settings.js"
    settings.write_text(
        "module.exports = { uiPort: %d, uiHost: '127.0.0.1', flowFile: 'flows.json',\n"
        "  logging: { console: { level: 'warn', metrics: false, audit: false } },\n"
        "  editorTheme: { tours: false }, diagnostics: { enabled: false },\n"
        "  telemetry: { enabled: false }, httpAdminRoot: '/admin' };\n" % port
    )
    return Server(
        "node-red",
        [
            "node",
            setup_peers.node_bin("node-red"),
            "-u",
            str(user_dir),
            "-s",
            str(settings),
            "-p",
            str(port),
            str(flows),
        ],
        log_path=PEERS / "logs" / f"node-red-{ID}.log",
    )


def ceiling_server(port: int) -> Server:
    return Server(
        "ceiling",
        [VENV_PY, str(BENCH / "ceiling" / "http_json_xml.py"), str(port)],
        log_path=PEERS / "logs" / f"ceiling-{ID}.log",
    )


def measure(server: Server, port: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/order"
    with server:
        startup = server.wait_http(url, data=ORDER, timeout=90)
        log(f"{server.name}: up in {startup:.2f}s, load testing {url}")
        result: dict[str, Any] = load_test(server, url)
        result["startup_s"] = startup
    failed = result["non2xx"] + result["socket_errors"]
    if failed > 0.01 * max(result["requests"], 1):
        result["invalid"] = f"{failed:.0f} of {result['requests']:.0f} requests failed"
        log(f"{server.name}: WARNING {result['invalid']}; see {server.log_path}")
    log(
        f"{server.name}: {result['rps']:.0f} req/s p50 {result['p50_ms']:.2f} ms "
        f"p99 {result['p99_ms']:.2f} ms peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    return result


def run() -> dict[str, Any]:
    runs: dict[str, dict[str, Any]] = {}
    for name, factory in (
        ("splice", splice_server),
        ("node-red", nodered_server),
        ("ceiling", ceiling_server),
    ):
        port = free_port()
        try:
            runs[name] = measure(factory(port), port)
        except Exception as error:  # one peer failing must not sink the suite
            log(f"{name} failed: {error}")
            runs[name] = {"error": str(error)}
    return {
        "id": ID,
        "metric": "req/s",
        **{name: r.get("rps") for name, r in runs.items()},
        "p50_ms": {name: r.get("p50_ms") for name, r in runs.items()},
        "p99_ms": {name: r.get("p99_ms") for name, r in runs.items()},
        "peak_rss_mb": {name: r.get("peak_rss_mb") for name, r in runs.items()},
        "details": runs,
        "notes": "; ".join(
            f"{n}: {r['invalid']} (figure not valid)" for n, r in runs.items() if r.get("invalid")
        )
        or None,
        "targets": {"splice/node-red": 2.0, "splice/ceiling": 0.6, "p99 splice/node-red": 1 / 3},
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
