"""Which flows a worker runs, the restart pauses, and the worker count setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from splice.config import load_project
from splice.connectors.http import server
from splice.errors import ConfigError
from splice.runtime import workers
from splice.runtime.workers import WorkerId, for_worker, resolve_count, restart_pause

FLOWS = {
    "web": "source: {http: /orders}",
    "queue": "source: {amqp: {queue: orders}}",
    "only-consumer": "source: {amqp: {queue: orders, exclusive: true}}",
    "nats-group": "source: {nats: {subject: orders, queue: loaders}}",
    "nats-plain": "source: {nats: {subject: orders}}",
    "inbox": "source: {file: {path: inbox}}",
    "tick": "source: {timer: 10s}",
    "rows": "source: {sql: {url: 'sqlite:///db.sqlite', table: orders, watermark: id}}",
    "shared-mqtt": "source: {mqtt: {topics: ['$share/splice/plant/#']}}",
    "plain-mqtt": "source: {mqtt: {topics: ['plant/#']}}",
}


def project_with(tmp_path: Path, settings: str = "project: p\n") -> Path:
    (tmp_path / "flows").mkdir()
    (tmp_path / "splice.yaml").write_text(settings)
    for name, source in FLOWS.items():
        (tmp_path / "flows" / f"{name}.yaml").write_text(f"integration: {name}\n{source}\n")
    return tmp_path


def test_worker_0_runs_every_flow_the_others_only_those_that_scale_out(tmp_path: Path) -> None:
    project = load_project(project_with(tmp_path))
    assert for_worker(project, WorkerId(0, 3)).flows == project.flows
    assert sorted(for_worker(project, WorkerId(2, 3)).flows) == [
        "nats-group",
        "queue",
        "shared-mqtt",
        "web",
    ]


def test_restart_pauses_grow_then_the_supervisor_gives_up() -> None:
    pauses = [restart_pause(n) for n in range(1, workers.GIVE_UP_AFTER + 2)]
    assert pauses == [0.5, 1.0, 2.0, 4.0, 8.0, None]


def test_auto_is_the_cpus_this_process_may_use() -> None:
    assert resolve_count("auto") == len(os.sched_getaffinity(0))
    assert resolve_count(3) == 3


def test_workers_setting(tmp_path: Path) -> None:
    project = load_project(project_with(tmp_path, "runtime: {workers: auto}\n"))
    assert project.settings.runtime.workers == "auto"


def test_a_bad_workers_setting_names_its_place(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_project(project_with(tmp_path, "runtime: {workers: 0}\n"))
    assert "runtime.workers" in str(caught.value)


def test_the_http_server_reads_the_variables_the_supervisor_sets() -> None:
    assert (server.WORKER, server.RESERVED_PORT) == (workers.WORKER, workers.RESERVED_PORT)
