"""`splice run` with a kafka source and no broker: one line on stderr, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kafka_harness import closed_port

GUARD = 60  # a guard against a hang, not a measurement


def test_splice_run_reports_it_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    address = f"127.0.0.1:{closed_port()}"
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "orders.yaml").write_text(
        f'source: {{kafka: {{brokers: "{address}", topics: [orders]}}}}\n'
        "sinks:\n  out: {channel: {name: orders}}\n"
    )
    done = subprocess.run(
        [str(Path(sys.executable).with_name("splice")), "run", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=GUARD,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert (
        "error: the project could not start: kafka source (group 'splice-orders', "
        f"topics orders): no Kafka broker answered at {address} (KafkaConnectionError)"
    ) in done.stderr
